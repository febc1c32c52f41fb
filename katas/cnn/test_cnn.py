"""Tests for the cnn kata: SimpleCNN's parameters, shapes, values, gradients and training, and
conv_output_size's arithmetic.

The oracle for SimpleCNN is the same pipeline written below with torch.nn.functional, run in
float64 on the module's own parameters after the tests have loaded seeded ones into it. The
oracle for conv_output_size is a real nn.Conv2d's output, and the formula.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

PARAMETER_SHAPES = {
    "conv1.weight": lambda c, n: (16, c, 3, 3),
    "conv1.bias": lambda c, n: (16,),
    "conv2.weight": lambda c, n: (32, 16, 3, 3),
    "conv2.bias": lambda c, n: (32,),
    "fc.weight": lambda c, n: (n, 32 * 7 * 7),
    "fc.bias": lambda c, n: (n,),
}
SIZES = [(28, 28), (29, 31), (8, 8), (4, 4), (13, 6), (64, 48)]
SIZE_IDS = [f"{h}x{w}" for h, w in SIZES]


# ---------------------------------------------------------------------------- helpers


def load_weights(model: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter with seeded draws, keeping the module's dtype and device:
    weights N(0, 2 / fan_in) (He), so that each ReLU layer keeps its input's scale, and
    biases N(0, 0.1^2). The logits are then of order one."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            draw = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            fan_in = math.prod(p.shape[1:])
            p.copy_(draw * math.sqrt(2 / fan_in) if p.ndim > 1 else draw / 10)
    return model


def build(solution, in_channels=1, num_classes=10, seed=0, dtype=torch.float64, device="cpu"):
    """solution.SimpleCNN moved to dtype and device, with seeded weights."""
    model = solution.SimpleCNN(in_channels=in_channels, num_classes=num_classes)
    return load_weights(model.to(device=device, dtype=dtype), seed)


def images(
    seed: int, B: int, C: int, H: int, W: int, dtype=torch.float64, device="cpu"
) -> torch.Tensor:
    """Seeded N(0, 1) images, drawn on the CPU and moved to dtype and device."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(B, C, H, W, generator=gen, dtype=torch.float64).to(device, dtype)


def pipeline(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The architecture, written with torch.nn.functional on the given parameters."""
    h = F.conv2d(x, params["conv1.weight"], params["conv1.bias"], padding=1)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.conv2d(h, params["conv2.weight"], params["conv2.bias"], padding=1)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.adaptive_avg_pool2d(h, 7)
    return F.linear(h.flatten(1), params["fc.weight"], params["fc.bias"])


def expected(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The pipeline in float64 on the CPU, on the model's (possibly rounded) parameters."""
    params = {k: p.detach().cpu().double() for k, p in model.named_parameters()}
    return pipeline(params, x.detach().cpu().double())


def run(model: nn.Module, x: torch.Tensor, call: str) -> torch.Tensor:
    """model(x), with any error but NotImplementedError turned into a test failure that
    names the call: an image size the model cannot take is a wrong answer, not a crash."""
    __tracebackhide__ = True
    try:
        return model(x)
    except NotImplementedError:
        raise
    except Exception as exc:
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}")


def describe(in_channels: int, num_classes: int, x: torch.Tensor) -> str:
    dtype = str(x.dtype).removeprefix("torch.")
    return (
        f"SimpleCNN(in_channels={in_channels}, num_classes={num_classes}) on x "
        f"{dtype} {tuple(x.shape)} ({x.device})"
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    sizes = {
        (28, 3, 1, 1, 1): 28,
        (28, 5, 1, 0, 1): 24,
        (28, 3, 2, 1, 1): 14,
        (8, 3, 2, 0, 1): 3,
        (10, 3, 1, 0, 2): 6,
    }
    for (size, kernel, stride, padding, dilation), want in sizes.items():
        got = solution.conv_output_size(size, kernel, stride, padding, dilation)
        assert got == want, (
            f"conv_output_size(size={size}, kernel={kernel}, stride={stride}, "
            f"padding={padding}, dilation={dilation}) returned {got!r}; the README says {want}"
        )
    model = solution.SimpleCNN()
    count = sum(p.numel() for p in model.parameters())
    assert count == 20490, (
        f"SimpleCNN() has {count} parameters; the README counts 160 + 4640 + 15690 = 20490"
    )


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("in_channels", "num_classes"), [(1, 10), (3, 100), (4, 2)], ids=["default", "rgb", "c4-n2"]
)
def test_the_parameters_have_the_named_shapes_and_nothing_else(solution, in_channels, num_classes):
    model = solution.SimpleCNN(in_channels=in_channels, num_classes=num_classes)
    call = f"SimpleCNN(in_channels={in_channels}, num_classes={num_classes})"
    state = model.state_dict()
    assert sorted(state) == sorted(PARAMETER_SHAPES), (
        f"{call}.state_dict() holds {sorted(state)}; expected exactly {sorted(PARAMETER_SHAPES)}"
    )
    for name, shape in PARAMETER_SHAPES.items():
        want = shape(in_channels, num_classes)
        assert tuple(state[name].shape) == want, (
            f"{call}: {name} has shape {tuple(state[name].shape)}; expected {want}"
        )
    want_count = sum(math.prod(s(in_channels, num_classes)) for s in PARAMETER_SHAPES.values())
    count = sum(p.numel() for p in model.parameters())
    assert count == want_count, f"{call} has {count} parameters; expected {want_count}"


def test_the_default_arguments_are_one_channel_and_ten_classes(solution):
    state = solution.SimpleCNN().state_dict()
    assert tuple(state["conv1.weight"].shape) == (16, 1, 3, 3), (
        f"SimpleCNN(): conv1.weight is {tuple(state['conv1.weight'].shape)}; expected "
        "(16, 1, 3, 3) (in_channels defaults to 1)"
    )
    assert tuple(state["fc.weight"].shape) == (10, 1568), (
        f"SimpleCNN(): fc.weight is {tuple(state['fc.weight'].shape)}; expected (10, 1568) "
        "(num_classes defaults to 10)"
    )


# ---------------------------------------------------------------------------- shapes, values


@pytest.mark.parametrize(("H", "W"), SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_any_image_of_at_least_4x4_gives_one_row_of_logits_per_image(solution, device, H, W):
    model = build(solution, in_channels=3, num_classes=5, dtype=torch.float32, device=device)
    x = images(1, 2, 3, H, W, dtype=torch.float32, device=device)
    call = describe(3, 5, x)
    out = run(model, x, call)
    assert tuple(out.shape) == (2, 5), (
        f"{call} returned shape {tuple(out.shape)}; expected (2, 5): the adaptive average "
        "pool makes every map 7 x 7 before fc"
    )
    assert out.device == x.device, f"{call} returned logits on {out.device}"


@pytest.mark.parametrize(("H", "W"), SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize(
    ("in_channels", "num_classes"), [(1, 10), (3, 4)], ids=["default", "rgb-4-classes"]
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_logits_match_the_functional_pipeline_in_float64(
    solution, device, in_channels, num_classes, H, W
):
    model = build(solution, in_channels, num_classes, seed=2, device=device)
    x = images(3, 3, in_channels, H, W, device=device)
    call = describe(in_channels, num_classes, x)
    assert_close(
        run(model, x, call),
        expected(model, x).to(x.device),
        msg=lambda m: (
            f"{call}: the logits differ from conv-relu-pool twice, adaptive "
            f"pool to 7x7, flatten, fc\n{m}"
        ),
    )


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32],
    ids=["float16", "bfloat16", "float32"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_logits_keep_the_dtype_of_the_input(solution, device, dtype):
    model = build(solution, in_channels=1, num_classes=10, seed=4, dtype=dtype, device=device)
    x = images(5, 2, 1, 28, 28, dtype=dtype, device=device)
    call = describe(1, 10, x)
    out = run(model, x, call)
    assert out.dtype == dtype, f"{call} returned {out.dtype}; expected {dtype}"
    # rounding to dtype after every layer: a relative error of a few units in its last place;
    # float32 convolutions on a GPU may use TF32: 10 bits of mantissa
    tol = {torch.float16: 2e-2, torch.bfloat16: 1e-1}.get(dtype)
    if dtype == torch.float32 and device == "cuda":
        tol = 1e-2
    tol = {"rtol": tol, "atol": tol} if tol else tolerance(dtype)
    want = expected(model, x).to(device=x.device, dtype=dtype)
    assert_close(out, want, msg=lambda m: f"{call}\n{m}", **tol)


@pytest.mark.parametrize("device", DEVICES)
def test_the_logits_live_on_the_device_of_the_input(solution, device):
    model = build(solution, in_channels=3, num_classes=10, seed=6, dtype=torch.float32)
    model = model.to(device)
    x = images(7, 4, 3, 29, 31, dtype=torch.float32).to(device)
    call = describe(3, 10, x)
    out = run(model, x, call)
    assert out.device == x.device, f"{call} returned logits on {out.device}"
    # float32 convolutions on a GPU may use TF32: 10 bits of mantissa
    tol = {"rtol": 1e-2, "atol": 1e-2} if device == "cuda" else tolerance(torch.float32)
    assert_close(out.cpu(), expected(model, x).float(), msg=lambda m: f"{call}\n{m}", **tol)


@pytest.mark.parametrize(("H", "W"), [(28, 28), (29, 31)], ids=["28x28", "29x31"])
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_for_every_parameter_and_the_input_match_the_pipeline(solution, device, H, W):
    """The pipeline's gradients in float64 on the CPU, on copies of the model's parameters;
    the model's own on the device."""
    model = build(solution, in_channels=2, num_classes=6, seed=8, device=device)
    x = images(9, 2, 2, H, W, device=device).requires_grad_()
    upstream = torch.randn(2, 6, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    call = describe(2, 6, x)
    params = dict(model.named_parameters())
    copies = {k: p.detach().cpu().requires_grad_() for k, p in params.items()}
    oracle_leaves = [x.detach().cpu().requires_grad_(), *copies.values()]
    want = torch.autograd.grad((pipeline(copies, oracle_leaves[0]) * upstream).sum(), oracle_leaves)
    leaves = [x, *params.values()]
    out = run(model, x, call)
    got = torch.autograd.grad((out * upstream.to(device)).sum(), leaves, allow_unused=True)
    for name, g, w in zip(["x", *params], got, want, strict=True):
        assert g is not None, f"{call}: the logits do not depend on {name}"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


def test_the_input_is_left_unchanged(solution):
    model = build(solution, seed=11)
    x = images(12, 2, 1, 28, 28)
    before = x.clone()
    run(model, x, describe(1, 10, x))
    assert torch.equal(x, before), "SimpleCNN's forward modified its input x"


def test_the_model_overfits_a_tiny_batch(solution):
    """Eight 16x16 images with eight different labels: fifteen Adam steps memorise them."""
    model = build(solution, in_channels=1, num_classes=10, seed=13, dtype=torch.float32)
    x = images(14, 8, 1, 16, 16, dtype=torch.float32)
    y = torch.randperm(10, generator=torch.Generator().manual_seed(15))[:8]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        logits = model(x)
    final = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(1) == y).double().mean().item()
    assert final < losses[0] / 10 and accuracy == 1.0, (
        f"SimpleCNN trained by Adam(lr=1e-2) for 15 steps on 8 images of 16x16: loss went "
        f"from {losses[0]:.3f} to {final:.3f} with accuracy {accuracy:.2f}; expected the "
        "loss to drop tenfold and every image to be classified right"
    )


# ---------------------------------------------------------------------------- conv_output_size


def conv_call(size, kernel, stride, padding, dilation) -> str:
    return (
        f"conv_output_size(size={size}, kernel={kernel}, stride={stride}, "
        f"padding={padding}, dilation={dilation})"
    )


def torch_output_size(size, kernel, stride, padding, dilation) -> int | None:
    """What a real nn.Conv2d makes of an input of that height; None if it refuses."""
    conv = nn.Conv2d(1, 1, (kernel, 1), stride=(stride, 1), padding=(padding, 0),
                     dilation=(dilation, 1), bias=False)  # fmt: skip
    try:
        with torch.no_grad():
            return conv(torch.zeros(1, 1, size, 1)).shape[2]
    except RuntimeError:
        return None


FORMULA_CASES = [
    # (size, kernel, stride, padding, dilation), out: chosen where floor, padding and
    # dilation each matter
    ((28, 3, 1, 1, 1), 28),
    ((28, 3, 1, 0, 1), 26),
    ((7, 3, 2, 0, 1), 3),
    ((8, 3, 2, 0, 1), 3),
    ((9, 3, 2, 1, 1), 5),
    ((10, 4, 3, 0, 1), 3),
    ((10, 3, 1, 0, 2), 6),
    ((10, 3, 2, 1, 3), 3),
    ((5, 5, 1, 0, 1), 1),
    ((1, 1, 1, 0, 1), 1),
    ((224, 7, 2, 3, 1), 112),
    ((3, 3, 5, 0, 1), 1),
]


@pytest.mark.parametrize(("args", "want"), FORMULA_CASES, ids=[str(a) for a, _ in FORMULA_CASES])
def test_conv_output_size_follows_the_floor_formula(solution, args, want):
    got = solution.conv_output_size(*args)
    assert type(got) is int and got == want, (
        f"{conv_call(*args)} returned {got!r}; expected the int {want} = "
        "floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1"
    )


@settings(max_examples=60)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
)
def test_conv_output_size_agrees_with_a_real_conv2d(solution, size, kernel, stride, padding,
                                                    dilation):  # fmt: skip
    call = conv_call(size, kernel, stride, padding, dilation)
    want = torch_output_size(size, kernel, stride, padding, dilation)
    if want is None:
        with pytest.raises(ValueError):
            solution.conv_output_size(size, kernel, stride, padding, dilation)
        return
    got = solution.conv_output_size(size, kernel, stride, padding, dilation)
    assert got == want, f"{call} returned {got!r}; nn.Conv2d gives an output of size {want}"


@pytest.mark.parametrize(
    ("args", "what"),
    [
        ((2, 3, 1, 0, 1), "the kernel is longer than the input"),
        ((4, 3, 1, 0, 2), "the dilated kernel spans 5 > 4 positions"),
        ((1, 5, 1, 1, 1), "the kernel is longer than the padded input"),
        ((10, 3, 0, 0, 1), "stride 0"),
        ((10, 3, -1, 0, 1), "a negative stride"),
        ((10, 0, 1, 0, 1), "kernel 0"),
        ((10, 3, 1, 0, 0), "dilation 0"),
        ((10, 3, 1, -1, 1), "negative padding"),
        ((0, 1, 1, 1, 1), "size 0"),
    ],
    ids=lambda v: v.replace(" ", "-") if isinstance(v, str) else None,
)
def test_conv_output_size_raises_value_error_for_invalid_arguments(solution, args, what):
    with pytest.raises(ValueError):
        got = solution.conv_output_size(*args)
        pytest.fail(f"{conv_call(*args)} returned {got!r}; expected ValueError ({what})")
