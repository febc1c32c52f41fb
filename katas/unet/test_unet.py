"""Tests for the unet kata: DoubleConv, Down, Up and UNet's shapes, parameter counts, values,
skip connections, determinism and gradients.

The oracle is the architecture written below with torch.nn.functional, run in float64 from
the channel plan alone. Both sides get the same weights without the tests knowing the
solution's submodule names: every parameter and batch-norm buffer is drawn from a seeded
generator keyed by its kind (the last part of its name: weight, bias, running_mean,
running_var) and its shape. Two tensors of the same kind and shape therefore hold the same
values, so the oracle needs only the shapes of the plan, never the solution's layout.
Parameter counts are compared with formulas written here from the same plan.
"""

from __future__ import annotations

import math
import zlib

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

EPS = 1e-5  # BatchNorm2d's default


# ---------------------------------------------------------------------------- weights


def value(kind: str, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """The float64 value every tensor of this kind and shape gets: convolution weights
    N(0, 2 / fan_in) (He, so each ReLU stage keeps the scale), batch-norm scales
    1 + N(0, 0.2^2), biases and running means N(0, 0.1^2), running variances U(0.5, 1.5)."""
    key = zlib.crc32(f"{seed}:{kind}:{shape}".encode())
    gen = torch.Generator().manual_seed(key)
    draw = torch.randn(shape, generator=gen, dtype=torch.float64)
    if len(shape) > 1:
        return draw * math.sqrt(2 / math.prod(shape[1:]))
    if kind == "weight":
        return 1 + draw / 5
    if kind == "running_var":
        return 0.5 + torch.rand(shape, generator=gen, dtype=torch.float64)
    return draw / 10


def load(model: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter and batch-norm buffer with value(kind, shape, seed)."""
    with torch.no_grad():
        for name, t in [*model.named_parameters(), *model.named_buffers()]:
            kind = name.rsplit(".", 1)[-1]
            if t.is_floating_point():
                t.copy_(value(kind, tuple(t.shape), seed))
    return model


def w(kind: str, shape: tuple[int, ...], seed: int, dtype: torch.dtype) -> torch.Tensor:
    """value() rounded to the model's dtype, back in float64: what the model really holds."""
    return value(kind, shape, seed).to(dtype).double()


# ---------------------------------------------------------------------------- oracle


def double_conv_ref(x, in_ch, out_ch, mid_ch, training, seed, dtype=torch.float64):
    h = x
    for i, o in [(in_ch, mid_ch), (mid_ch, out_ch)]:
        h = F.conv2d(h, w("weight", (o, i, 3, 3), seed, dtype), padding=1)
        mean = None if training else w("running_mean", (o,), seed, dtype)
        var = None if training else w("running_var", (o,), seed, dtype)
        gamma, beta = w("weight", (o,), seed, dtype), w("bias", (o,), seed, dtype)
        h = F.relu(F.batch_norm(h, mean, var, gamma, beta, training=training, eps=EPS))
    return h


def down_ref(x, in_ch, out_ch, training, seed, dtype=torch.float64):
    return double_conv_ref(F.max_pool2d(x, 2), in_ch, out_ch, out_ch, training, seed, dtype)


def up_ref(x_deep, skip, in_ch, out_ch, bilinear, training, seed, dtype=torch.float64):
    half = in_ch // 2
    if bilinear:
        up = F.interpolate(x_deep, scale_factor=2, mode="bilinear", align_corners=True)
    else:
        weight = w("weight", (in_ch, half, 2, 2), seed, dtype)
        up = F.conv_transpose2d(x_deep, weight, w("bias", (half,), seed, dtype), stride=2)
    dy, dx = skip.shape[-2] - up.shape[-2], skip.shape[-1] - up.shape[-1]
    up = F.pad(up, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
    return double_conv_ref(torch.cat([skip, up], 1), in_ch, out_ch, half, training, seed, dtype)


def plan(b: int, depth: int, bilinear: bool):
    """milesial's channel plan: the (in, out) of every Down and every Up, in call order."""
    f = 2 if bilinear else 1
    downs = [(b * 2 ** (i - 1), b * 2**i // (f if i == depth else 1)) for i in range(1, depth + 1)]
    ups = [
        (b * 2 ** (depth - j + 1), b * 2 ** (depth - j) // (f if j < depth else 1))
        for j in range(1, depth + 1)
    ]
    return downs, ups


def unet_ref(x, in_channels, num_classes, b, depth, bilinear, training, seed):
    downs, ups = plan(b, depth, bilinear)
    skips = [double_conv_ref(x, in_channels, b, b, training, seed)]
    for i, o in downs:
        skips.append(down_ref(skips[-1], i, o, training, seed))
    h = skips.pop()
    for i, o in ups:
        h = up_ref(h, skips.pop(), i, o, bilinear, training, seed)
    weight = w("weight", (num_classes, b, 1, 1), seed, torch.float64)
    return F.conv2d(h, weight, w("bias", (num_classes,), seed, torch.float64))


# ---------------------------------------------------------------------------- counts


def double_conv_count(in_ch: int, out_ch: int, mid_ch: int | None = None) -> int:
    mid = out_ch if mid_ch is None else mid_ch
    return 9 * mid * in_ch + 2 * mid + 9 * out_ch * mid + 2 * out_ch


def up_count(in_ch: int, out_ch: int, bilinear: bool) -> int:
    transposed = 0 if bilinear else in_ch * (in_ch // 2) * 4 + in_ch // 2
    return transposed + double_conv_count(in_ch, out_ch, in_ch // 2)


def unet_count(in_channels, num_classes, b, depth, bilinear) -> int:
    downs, ups = plan(b, depth, bilinear)
    return (
        double_conv_count(in_channels, b)
        + sum(double_conv_count(i, o) for i, o in downs)
        + sum(up_count(i, o, bilinear) for i, o in ups)
        + b * num_classes
        + num_classes
    )


def meta(cls, *args, **kwargs) -> nn.Module:
    """cls(*args, **kwargs) built on the meta device: no memory and no initialisation
    time, which a 31-million-parameter model would cost, yet the same parameter shapes."""
    with torch.device("meta"):
        return cls(*args, **kwargs)


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------- helpers


def images(seed: int, *shape: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype).to(device)


def run(model: nn.Module, *inputs: torch.Tensor, call: str) -> torch.Tensor:
    """model(*inputs), with any error but NotImplementedError turned into a test failure that
    names the call: a size the model cannot take is a wrong answer, not a crash."""
    __tracebackhide__ = True
    try:
        return model(*inputs)
    except NotImplementedError:
        raise
    except Exception as exc:
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}")


def build(solution, cls: str, *args, seed=0, dtype=torch.float64, device="cpu", **kwargs):
    model = getattr(solution, cls)(*args, **kwargs).to(device=device, dtype=dtype)
    return load(model, seed)


def mode(bilinear: bool) -> str:
    return "bilinear" if bilinear else "transposed"


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    got = count(solution.DoubleConv(3, 8))
    assert got == 824, f"DoubleConv(3, 8) has {got} parameters; the README counts 824"
    got = count(solution.Up(16, 8))
    assert got == 2280, f"Up(16, 8) has {got} parameters; the README counts 2280"
    got = count(meta(solution.UNet, 3, 2))
    assert got == 31_037_698, f"UNet(3, 2) has {got} parameters; the README counts 31,037,698"
    up = solution.Up(16, 8)
    x_deep, skip = images(0, 1, 16, 4, 5), images(1, 1, 8, 9, 11)
    out = run(up.double(), x_deep, skip, call="Up(16, 8)(x_deep (1,16,4,5), skip (1,8,9,11))")
    assert tuple(out.shape) == (1, 8, 9, 11), (
        f"Up(16, 8) on x_deep (1, 16, 4, 5) and skip (1, 8, 9, 11) returned "
        f"{tuple(out.shape)}; the README shows (1, 8, 9, 11)"
    )


# ---------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("in_ch", "out_ch", "mid_ch"), [(3, 8, None), (4, 6, 5), (8, 4, 2)], ids=str
)
def test_double_conv_has_two_bias_free_convs_and_two_batch_norms(solution, in_ch, out_ch, mid_ch):
    args = (in_ch, out_ch) if mid_ch is None else (in_ch, out_ch, mid_ch)
    got, want = count(solution.DoubleConv(*args)), double_conv_count(*args)
    assert got == want, (
        f"DoubleConv{args} has {got} parameters; expected {want}: two 3x3 convs without bias "
        "(in->mid, mid->out) and two batch norms with a scale and a shift each"
    )


@pytest.mark.parametrize(("in_ch", "out_ch"), [(4, 8), (6, 3)], ids=str)
def test_down_has_the_parameters_of_its_double_conv_only(solution, in_ch, out_ch):
    got, want = count(solution.Down(in_ch, out_ch)), double_conv_count(in_ch, out_ch)
    assert got == want, f"Down({in_ch}, {out_ch}) has {got} parameters; expected {want}"


@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
@pytest.mark.parametrize(("in_ch", "out_ch"), [(16, 8), (8, 6), (12, 3)], ids=str)
def test_up_counts_the_upsampler_and_a_double_conv_with_half_the_channels_inside(
    solution, in_ch, out_ch, bilinear
):
    got, want = count(solution.Up(in_ch, out_ch, bilinear)), up_count(in_ch, out_ch, bilinear)
    assert got == want, (
        f"Up({in_ch}, {out_ch}, bilinear={bilinear}) has {got} parameters; expected {want}: "
        + ("no parameters in the upsampler" if bilinear else "ConvTranspose2d(in, in // 2, 2)")
        + ", then DoubleConv(in, out, mid=in // 2)"
    )


@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
@pytest.mark.parametrize(
    ("in_channels", "num_classes", "base", "depth"),
    [(3, 2, 64, 4), (1, 3, 8, 3), (3, 5, 4, 2), (2, 1, 6, 1)],
    ids=["milesial", "b8-d3", "b4-d2", "b6-d1"],
)
def test_unet_has_the_parameters_of_milesials_channel_plan(
    solution, in_channels, num_classes, base, depth, bilinear
):
    model = meta(
        solution.UNet, in_channels, num_classes, base_channels=base, depth=depth, bilinear=bilinear
    )
    got, want = count(model), unet_count(in_channels, num_classes, base, depth, bilinear)
    assert got == want, (
        f"UNet({in_channels}, {num_classes}, base_channels={base}, depth={depth}, "
        f"bilinear={bilinear}) has {got} parameters; expected {want} from the plan: widths "
        "base*2^i"
        + (", the deepest Down and every Up but the last at half width" if bilinear else "")
        + ", a 1x1 conv with bias at the end"
    )


def test_unet_defaults_are_base_64_depth_4_transposed(solution):
    got, want = count(meta(solution.UNet, 1, 1)), unet_count(1, 1, 64, 4, False)
    assert got == want, f"UNet(1, 1) has {got} parameters; expected {want} (b=64, D=4)"


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(("in_ch", "out_ch", "mid_ch"), [(3, 6, 5), (4, 4, None)], ids=str)
def test_double_conv_matches_conv_batch_norm_relu_twice(
    solution, in_ch, out_ch, mid_ch, training, device
):
    args = (in_ch, out_ch) if mid_ch is None else (in_ch, out_ch, mid_ch)
    model = build(solution, "DoubleConv", *args, seed=1, device=device).train(training)
    x = images(2, 3, in_ch, 7, 6, device=device)
    call = f"DoubleConv{args} in {'train' if training else 'eval'} mode on x (3, {in_ch}, 7, 6)"
    want = double_conv_ref(x.cpu(), in_ch, out_ch, mid_ch or out_ch, training, seed=1)
    assert_close(
        run(model, x, call=call).cpu(),
        want,
        msg=lambda m: f"{call}: differs from (conv3x3 -> batch norm -> ReLU) x 2\n{m}",
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("H", "W"), [(8, 8), (9, 7)], ids=["8x8", "9x7"])
def test_down_max_pools_then_double_convs(solution, H, W, device):
    model = build(solution, "Down", 4, 6, seed=3, device=device)
    x = images(4, 2, 4, H, W, device=device)
    call = f"Down(4, 6) on x (2, 4, {H}, {W})"
    assert_close(
        run(model, x, call=call).cpu(),
        down_ref(x.cpu(), 4, 6, training=True, seed=3),
        msg=lambda m: f"{call}: differs from MaxPool2d(2) then DoubleConv(4, 6)\n{m}",
    )


UP_SIZES = [((4, 5), (8, 10)), ((4, 5), (9, 11)), ((3, 3), (9, 8)), ((1, 1), (2, 3))]
UP_IDS = ["same", "plus-1", "plus-3-plus-2", "1x1"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
@pytest.mark.parametrize(("deep", "skip_hw"), UP_SIZES, ids=UP_IDS)
def test_up_upsamples_pads_concatenates_skip_first_and_double_convs(
    solution, deep, skip_hw, bilinear, device
):
    in_ch, out_ch = 8, 6
    model = build(solution, "Up", in_ch, out_ch, bilinear, seed=5, device=device)
    x_deep = images(6, 2, in_ch // 2 if bilinear else in_ch, *deep, device=device)
    skip = images(7, 2, in_ch // 2, *skip_hw, device=device)
    call = (
        f"Up({in_ch}, {out_ch}, bilinear={bilinear}) on x_deep {tuple(x_deep.shape)} "
        f"and skip {tuple(skip.shape)}"
    )
    want = up_ref(x_deep.cpu(), skip.cpu(), in_ch, out_ch, bilinear, training=True, seed=5)
    assert_close(
        run(model, x_deep, skip, call=call).cpu(),
        want,
        msg=lambda m: (
            f"{call}: differs from upsample x2, zero-pad to the skip's size (the extra pixel "
            f"at the bottom and right), cat([skip, up], dim=1), DoubleConv\n{m}"
        ),
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
@pytest.mark.parametrize(
    ("H", "W", "depth"), [(32, 32, 3), (37, 45, 3), (17, 16, 4), (8, 9, 3)], ids=str
)
def test_unet_matches_the_functional_pipeline_in_float64(solution, H, W, depth, bilinear, device):
    kwargs = dict(base_channels=4, depth=depth, bilinear=bilinear)
    model = build(solution, "UNet", 2, 3, seed=8, device=device, **kwargs)
    x = images(9, 2, 2, H, W, device=device)
    call = f"UNet(2, 3, base_channels=4, depth={depth}, bilinear={bilinear}) on x (2, 2, {H}, {W})"
    out = run(model, x, call=call)
    assert tuple(out.shape) == (2, 3, H, W), (
        f"{call} returned shape {tuple(out.shape)}; expected (2, 3, {H}, {W}): one logit "
        "map per class at the input's size"
    )
    assert_close(
        out.cpu(),
        unet_ref(x.cpu(), 2, 3, 4, depth, bilinear, training=True, seed=8),
        msg=lambda m: f"{call}: differs from the U-Net of the channel plan\n{m}",
    )


@settings(max_examples=20)
@given(
    depth=st.integers(1, 3),
    extra_h=st.integers(0, 20),
    extra_w=st.integers(0, 20),
    bilinear=st.booleans(),
)
def test_any_size_of_at_least_2_to_the_depth_comes_back_at_its_size(
    solution, depth, extra_h, extra_w, bilinear
):
    H, W = 2**depth + extra_h, 2**depth + extra_w
    model = solution.UNet(1, 2, base_channels=2, depth=depth, bilinear=bilinear).eval()
    x = images(25, 1, 1, H, W, dtype=torch.float32)
    call = f"UNet(1, 2, base_channels=2, depth={depth}, bilinear={bilinear}) on x (1, 1, {H}, {W})"
    with torch.no_grad():
        out = run(model, x, call=call)
    assert tuple(out.shape) == (1, 2, H, W), (
        f"{call} in eval mode returned shape {tuple(out.shape)}; expected (1, 2, {H}, {W})"
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float16, torch.bfloat16], ids=["float32", "float16", "bfloat16"]
)
def test_up_keeps_the_dtype_and_device_of_its_inputs(solution, dtype, device):
    model = build(solution, "Up", 8, 4, seed=10, dtype=dtype, device=device)
    x_deep, skip = (
        images(11, 2, 8, 3, 4, dtype=dtype, device=device),
        images(12, 2, 4, 7, 9, dtype=dtype, device=device),
    )
    call = f"Up(8, 4) on {dtype} x_deep (2, 8, 3, 4), skip (2, 4, 7, 9) ({device})"
    out = run(model, x_deep, skip, call=call)
    assert out.dtype == dtype and out.device.type == torch.device(device).type, (
        f"{call} returned {out.dtype} on {out.device}; expected {dtype} on {device}"
    )
    want = up_ref(x_deep.cpu().double(), skip.cpu().double(), 8, 4, False, True, 10, dtype)
    assert_close(
        out.cpu(),
        want.to(dtype),
        **tolerance(dtype),
        msg=lambda m: f"{call}: differs from the float64 pipeline on the same rounded inputs\n{m}",
    )


# ---------------------------------------------------------------------------- the skips


def test_up_reads_the_skip_through_the_first_input_channels_of_its_first_conv(solution):
    """Zeroing the first conv's weights on the skip's channels changes the output; zeroing
    them on the upsampled channels leaves an output that x_deep no longer affects."""
    in_ch, out_ch = 8, 6
    model = build(solution, "Up", in_ch, out_ch, seed=13).eval()
    first = [
        m
        for m in model.modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) and m.in_channels == in_ch
    ]
    assert len(first) == 1, f"Up({in_ch}, {out_ch}) should hold one nn.Conv2d({in_ch}, ..., 3)"
    weight = first[0].weight
    x_deep, skip = images(14, 2, in_ch, 4, 4), images(15, 2, in_ch // 2, 8, 8)
    call = f"Up({in_ch}, {out_ch})"
    with torch.no_grad():
        before = run(model, x_deep, skip, call=call)
        saved = weight.clone()
        weight[:, : in_ch // 2] = 0
        no_skip = model(x_deep, skip)
        assert (no_skip - before).abs().max() > 1e-3, (
            f"{call}: zeroing the first conv's weights on input channels 0..{in_ch // 2 - 1} "
            "(the skip, which cat([skip, up]) puts first) did not change the output"
        )
        weight.copy_(saved)
        weight[:, in_ch // 2 :] = 0
        a = model(x_deep, skip)
        b = model(images(16, 2, in_ch, 4, 4), skip)
        assert_close(
            a,
            b,
            msg=lambda m: (
                f"{call}: with the first conv's weights on channels {in_ch // 2}..{in_ch - 1} "
                "(the upsampled map) zeroed, the output still depends on x_deep: the "
                f"concatenation must be cat([skip, up], dim=1)\n{m}"
            ),
        )


@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
def test_every_up_gets_the_encoder_map_of_its_level_and_the_skip_changes_the_output(
    solution, bilinear
):
    depth, b, H, W = 3, 4, 19, 22
    model = build(solution, "UNet", 1, 2, base_channels=b, depth=depth, bilinear=bilinear, seed=17)
    model.eval()
    x = images(18, 2, 1, H, W)
    call = f"UNet(1, 2, base_channels={b}, depth={depth}, bilinear={bilinear})"
    seen: list[tuple[int, ...]] = []
    target: list[int] = [-1]

    def pre_hook(module, args):
        seen.append(tuple(args[1].shape))
        if len(seen) - 1 == target[0]:
            noise = images(19, *args[1].shape)
            return (args[0], args[1] + noise)
        return None

    ups = [m for m in model.modules() if isinstance(m, solution.Up)]
    handles = [m.register_forward_pre_hook(pre_hook) for m in ups]
    try:
        with torch.no_grad():
            before = run(model, x, call=call)
            sizes = [(H, W)]
            for _ in range(depth):
                sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
            want = [(2, b * 2**level, *sizes[level]) for level in reversed(range(depth))]
            assert seen == want, (
                f"{call} on x (2, 1, {H}, {W}): the Up modules were called with skips {seen}; "
                f"expected {want} (deepest first, inc's output last)"
            )
            for j in range(depth):
                seen.clear()
                target[0] = j
                after = model(x)
                assert (after - before).abs().max() > 1e-3, (
                    f"{call}: adding noise to the skip of Up call {j} did not change the "
                    "output: the skip must reach the output through the concatenation"
                )
    finally:
        for h in handles:
            h.remove()


# ---------------------------------------------------------------------------- modes, grads


def test_eval_mode_is_deterministic_and_treats_each_image_alone(solution):
    model = build(solution, "UNet", 3, 2, base_channels=4, depth=3, seed=20).eval()
    x = images(21, 3, 3, 16, 20)
    call = "UNet(3, 2, base_channels=4, depth=3) in eval mode"
    with torch.no_grad():
        a, b = run(model, x, call=call), model(x)
        single = model(x[1:2])
    assert torch.equal(a, b), f"{call} gave two different outputs for the same input"
    assert_close(
        single,
        a[1:2],
        msg=lambda m: (
            f"{call}: image 1 alone differs from image 1 in a batch of 3: eval mode "
            f"must use the running statistics\n{m}"
        ),
    )


@pytest.mark.parametrize("bilinear", [False, True], ids=mode)
def test_gradients_reach_every_parameter(solution, bilinear):
    model = build(solution, "UNet", 2, 3, base_channels=4, depth=3, bilinear=bilinear, seed=22)
    x = images(23, 2, 2, 13, 18)
    call = f"UNet(2, 3, base_channels=4, depth=3, bilinear={bilinear})"
    out = run(model, x, call=call)
    (out * images(24, *out.shape)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, (
            f"{call}: parameter {name} got no gradient from the output"
        )
