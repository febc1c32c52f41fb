"""Tests for the multi_head_attention kata: parameters, values, masks, causality, gradients,
dtypes, devices and errors.

The oracle is torch.nn.MultiheadAttention(batch_first=True) in float64, loaded with the same
seeded weights as the solution (its in_proj_weight stacks the q, k and v weights). Its
boolean mask means the opposite of ours, so every rule is handed to it as one float mask of
shape (B*H, L, S) with -inf where a key is forbidden. Weights are drawn so that the scores
and the outputs are of order one.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

INF = float("inf")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def seeded_parameters(seed: int, E: int, bias: bool) -> dict[str, torch.Tensor]:
    """float64 weights N(0, 1/E) (they keep the features' size, so the per-head scores are
    of order one) and biases N(0, 0.25), by state_dict name."""
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for name in PROJECTIONS:
        params[f"{name}.weight"] = randn(gen, E, E) / E**0.5
        if bias:
            params[f"{name}.bias"] = randn(gen, E) / 2
    return params


def build(
    solution,
    E: int,
    H: int,
    bias: bool = True,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """The solution's module in dtype on device, loaded with seeded parameters; returns it
    and the parameters it holds, in float64 on the CPU (rounded to dtype first)."""
    model = solution.MultiHeadAttention(E, H, bias=bias).to(dtype=dtype, device=device)
    params = {n: p.to(dtype).to(torch.float64) for n, p in seeded_parameters(seed, E, bias).items()}
    with torch.no_grad():
        for name, value in params.items():
            model.get_parameter(name).copy_(value)
    return model, params


def oracle(params: dict[str, torch.Tensor], E: int, H: int) -> nn.MultiheadAttention:
    """torch's module in float64 with the same weights: in_proj stacks q, k, v in order."""
    bias = "q_proj.bias" in params
    mha = nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([params[f"{n}_proj.weight"] for n in "qkv"]))
        mha.out_proj.weight.copy_(params["out_proj.weight"])
        if bias:
            mha.in_proj_bias.copy_(torch.cat([params[f"{n}_proj.bias"] for n in "qkv"]))
            mha.out_proj.bias.copy_(params["out_proj.bias"])
    return mha


def torch_mask(
    mask: torch.Tensor | None, is_causal: bool, B: int, H: int, L: int, S: int
) -> torch.Tensor | None:
    """Our rules (bool True = may attend, float added, causal top-left) as the one float
    (B*H, L, S) mask nn.MultiheadAttention reads: 0 or the bias where allowed, -inf where not."""
    if mask is None and not is_causal:
        return None
    allowed = torch.ones(L, S, dtype=torch.bool)
    bias = torch.zeros(L, S, dtype=torch.float64)
    if is_causal:
        allowed = allowed & torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None and mask.dtype == torch.bool:
        allowed = allowed & mask.cpu()
    elif mask is not None:
        bias = bias + mask.cpu().to(torch.float64)
    full = bias.masked_fill(~allowed, -INF).expand(B, H, L, S)
    return full.reshape(B * H, L, S)


def expected(params, H, query, key, value, attn_mask=None, is_causal=False) -> torch.Tensor:
    """nn.MultiheadAttention's output in float64 on the CPU for the same inputs."""
    (B, L, E), S = query.shape, key.shape[1]
    mask = torch_mask(attn_mask, is_causal, B, H, L, S)
    q, k, v = (t.detach().cpu().to(torch.float64) for t in (query, key, value))
    out, _ = oracle(params, E, H)(q, k, v, attn_mask=mask, need_weights=False)
    return out


def describe(E, H, query, key, value, attn_mask=None, is_causal=False, bias=True) -> str:
    """The call, as a reader would write it, for failure messages."""

    def shape(t: torch.Tensor) -> str:
        where = "" if t.device.type == "cpu" else f" on {t.device}"
        return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"

    if query is key is value:
        args, shapes = ["x, x, x"], f" with x {shape(query)}"
    else:
        args = [f"query {shape(query)}", f"key {shape(key)}", f"value {shape(value)}"]
        shapes = ""
    if attn_mask is not None:
        args.append(f"attn_mask={shape(attn_mask)}")
    if is_causal:
        args.append("is_causal=True")
    module = f"MultiHeadAttention({E}, {H}{'' if bias else ', bias=False'})"
    return f"{module}({', '.join(args)}){shapes}"


def inputs(seed: int, B: int, L: int, S: int, E: int) -> tuple[torch.Tensor, ...]:
    """Seeded standard-normal query (B, L, E), key (B, S, E), value (B, S, E)."""
    gen = torch.Generator().manual_seed(seed)
    return randn(gen, B, L, E), randn(gen, B, S, E), randn(gen, B, S, E)


def bool_mask(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """True (may attend) with probability 0.6, and key 0 always True, so that no row is
    fully forbidden even under the causal rule."""
    mask = torch.rand(shape, generator=gen) < 0.6
    mask[..., 0] = True
    return mask


def random_mask(kind: str | None, gen: torch.Generator, shape: tuple[int, ...]):
    """None, a bool_mask, or a float mask: biases of order one, -inf where a bool_mask
    forbids."""
    if kind is None:
        return None
    if kind == "bool":
        return bool_mask(gen, shape)
    return randn(gen, *shape).masked_fill(~bool_mask(gen, shape), -INF)


def check(
    solution,
    H: int,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    bias: bool = True,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> None:
    """Run the solution's module (in dtype, on device) on the inputs rounded to dtype, and
    compare with the float64 oracle on the same rounded inputs and weights."""
    __tracebackhide__ = True
    E = query.shape[-1]
    self_attention = query is key is value
    model, params = build(solution, E, H, bias, seed, dtype, device)
    query, key, value = (t.to(dtype=dtype, device=device) for t in (query, key, value))
    if self_attention:
        key = value = query
    if attn_mask is not None:
        float_mask = attn_mask.dtype != torch.bool
        attn_mask = attn_mask.to(dtype=dtype if float_mask else torch.bool, device=device)
    call = describe(E, H, query, key, value, attn_mask, is_causal, bias)
    want = expected(params, H, query, key, value, attn_mask, is_causal)
    out = model(query, key, value, attn_mask=attn_mask, is_causal=is_causal)
    assert isinstance(out, torch.Tensor), f"{call} returned {type(out).__name__}, not a Tensor"
    assert out.device == query.device, f"{call} returned a tensor on {out.device}"
    assert_close(
        out.cpu(),
        want.to(dtype),
        msg=lambda m: f"{call} differs from nn.MultiheadAttention\n{m}",
        **tolerance(dtype),
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    model = solution.MultiHeadAttention(2, 2, bias=False)
    with torch.no_grad():
        for name in PROJECTIONS:
            getattr(model, name).weight.copy_(torch.eye(2))
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    to_4_places = {"rtol": 0, "atol": 5e-5}

    out = model(x, x, x)
    assert_close(
        out,
        torch.tensor([[[0.7311, 1.9640], [0.5000, 1.0000]]]),
        msg=lambda m: f"README example, MultiHeadAttention(2, 2, bias=False)(x, x, x)\n{m}",
        **to_4_places,
    )
    out = model(x, x, x, is_causal=True)
    assert_close(
        out,
        torch.tensor([[[1.0000, 2.0000], [0.5000, 1.0000]]]),
        msg=lambda m: f"README example with is_causal=True\n{m}",
        **to_4_places,
    )


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_parameters_are_four_linear_projections_with_the_catalog_names(solution, bias):
    E, H = 12, 3
    model = solution.MultiHeadAttention(E, H, bias=bias)
    call = f"MultiHeadAttention({E}, {H}, bias={bias})"
    assert isinstance(model, nn.Module), f"{call} is not an nn.Module"
    for name in PROJECTIONS:
        layer = getattr(model, name, None)
        assert isinstance(layer, nn.Linear), f"{call}.{name} should be an nn.Linear({E}, {E})"
        assert (layer.in_features, layer.out_features) == (E, E), (
            f"{call}.{name} maps {layer.in_features} -> {layer.out_features} features; "
            f"expected {E} -> {E}"
        )
    want = {f"{n}.weight": (E, E) for n in PROJECTIONS}
    if bias:
        want |= {f"{n}.bias": (E,) for n in PROJECTIONS}
    got = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    assert got == want, f"{call}.state_dict() has {got}; expected exactly {want}"
    count = sum(p.numel() for p in model.parameters())
    assert count == 4 * E * E + 4 * E * bias, (
        f"{call} has {count} parameters; expected {4 * E * E + 4 * E * bias}"
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("device", DEVICES)
def test_self_attention_matches_torch(solution, device, bias):
    x, _, _ = inputs(1, B=2, L=5, S=5, E=12)
    check(solution, 3, x, x, x, bias=bias, seed=2, device=device)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("device", DEVICES)
def test_cross_attention_with_other_lengths_and_distinct_key_and_value_matches_torch(
    solution, device, bias
):
    for L, S in [(3, 7), (7, 3), (1, 4), (4, 1)]:
        query, key, value = inputs(3, B=2, L=L, S=S, E=12)
        check(solution, 3, query, key, value, bias=bias, seed=4, device=device)


@pytest.mark.parametrize("H", [1, 2, 3, 6, 12])
def test_any_number_of_heads_that_divides_embed_dim_matches_torch(solution, H):
    query, key, value = inputs(5, B=2, L=4, S=6, E=12)
    check(solution, H, query, key, value, seed=6)


MASK_SHAPES = {
    "L-S": lambda B, H, L, S: (L, S),
    "B-1-L-S": lambda B, H, L, S: (B, 1, L, S),
    "B-H-L-S-one-per-head": lambda B, H, L, S: (B, H, L, S),
    "B-1-1-S-key-padding": lambda B, H, L, S: (B, 1, 1, S),
    "1-S-same-for-every-query": lambda B, H, L, S: (1, S),
}


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("mask_shape", MASK_SHAPES.values(), ids=MASK_SHAPES.keys())
def test_a_mask_restricts_or_biases_the_keys_each_query_attends_to(solution, mask_shape, kind):
    B, H, L, S = 2, 3, 5, 7
    query, key, value = inputs(7, B, L, S, E=12)
    mask = random_mask(kind, torch.Generator().manual_seed(8), mask_shape(B, H, L, S))
    check(solution, H, query, key, value, attn_mask=mask, seed=9)


def test_a_float_mask_of_zeros_changes_nothing(solution):
    query, key, value = inputs(10, B=2, L=4, S=6, E=8)
    check(solution, 2, query, key, value, attn_mask=torch.zeros(4, 6, dtype=torch.float64))


@pytest.mark.parametrize(
    ("L", "S"), [(5, 5), (3, 7), (7, 3), (1, 4), (4, 1)], ids=["L=S", "L<S", "L>S", "L=1", "S=1"]
)
def test_causal_attention_counts_from_the_top_left_corner(solution, L, S):
    query, key, value = inputs(11, B=2, L=L, S=S, E=12)
    check(solution, 3, query, key, value, is_causal=True, seed=12)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize(("L", "S"), [(5, 5), (3, 7), (7, 3)], ids=["L=S", "L<S", "L>S"])
def test_a_mask_and_is_causal_together_apply_both_restrictions(solution, kind, L, S):
    query, key, value = inputs(13, B=2, L=L, S=S, E=12)
    mask = random_mask(kind, torch.Generator().manual_seed(14), (2, 1, L, S))
    check(solution, 3, query, key, value, attn_mask=mask, is_causal=True, seed=15)


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_a_module_cast_to_low_precision_returns_that_precision(solution, dtype):
    query, key, value = inputs(16, B=2, L=4, S=6, E=12)
    mask = bool_mask(torch.Generator().manual_seed(17), (4, 6))
    check(solution, 3, query, key, value, attn_mask=mask, is_causal=True, seed=18, dtype=dtype)
    x = query[:, :3]
    check(solution, 3, x, x, x, attn_mask=mask[:3, :3].to(torch.float64), seed=19, dtype=dtype)


def test_a_float32_module_returns_float32(solution):
    query, key, value = inputs(20, B=2, L=4, S=6, E=12)
    check(solution, 3, query, key, value, is_causal=True, seed=21, dtype=torch.float32)


# ---------------------------------------------------------------------------- gradients


# (L, S, mask kind, is_causal, bias); S None: self-attention, one tensor as query, key, value
GRADIENT_CASES = {
    "self-attention": (5, None, None, False, True),
    "cross-attention": (3, 6, None, False, True),
    "bool-mask": (4, 6, "bool", False, True),
    "float-mask-no-bias": (4, 6, "float", False, False),
    "causal-L>S": (6, 3, None, True, True),
    "mask-and-causal": (5, 5, "bool", True, True),
}


def torch_gradients(params, H, named_inputs, mask, is_causal, upstream) -> dict:
    """Gradients of sum(out * upstream) from nn.MultiheadAttention in float64, by input name
    and by our parameter names (its in_proj stacks q, k, v: split in three)."""
    leaves = {name: t.clone().requires_grad_() for name, t in named_inputs.items()}
    args = [leaves["x"]] * 3 if "x" in leaves else list(leaves.values())
    (B, L, E), S = args[0].shape, args[1].shape[1]
    mha = oracle(params, E, H)
    out, _ = mha(*args, attn_mask=torch_mask(mask, is_causal, B, H, L, S), need_weights=False)
    theirs = dict(mha.named_parameters())
    grads = torch.autograd.grad((out * upstream).sum(), [*leaves.values(), *theirs.values()])
    want = dict(zip(leaves, grads, strict=False))
    theirs = dict(zip(theirs, grads[len(leaves) :], strict=True))
    for kind in ("weight", "bias") if "in_proj_bias" in theirs else ("weight",):
        for n, part in zip("qkv", theirs[f"in_proj_{kind}"].chunk(3), strict=True):
            want[f"{n}_proj.{kind}"] = part
        want[f"out_proj.{kind}"] = theirs[f"out_proj.{kind}"]
    return want


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_for_the_inputs_and_every_parameter_match_torch(solution, device, case):
    L, S, kind, is_causal, bias = case
    E, H = 12, 3
    query, key, value = inputs(22, B=2, L=L, S=S or L, E=E)
    named_inputs = {"query": query, "key": key, "value": value} if S else {"x": query}
    S = S or L
    gen = torch.Generator().manual_seed(23)
    mask = random_mask(kind, gen, (2, 1, L, S))
    upstream = randn(gen, 2, L, E)
    model, params = build(solution, E, H, bias, seed=24, device=device)
    want = torch_gradients(params, H, named_inputs, mask, is_causal, upstream)

    leaves = {name: t.to(device).requires_grad_() for name, t in named_inputs.items()}
    args = [leaves["x"]] * 3 if "x" in leaves else list(leaves.values())
    mask = None if mask is None else mask.to(device)
    call = describe(E, H, *args, mask, is_causal, bias)
    out = model(*args, attn_mask=mask, is_causal=is_causal)
    targets = {**leaves, **{n: model.get_parameter(n) for n in want if n not in leaves}}
    got = torch.autograd.grad(
        (out * upstream.to(device)).sum(), list(targets.values()), allow_unused=True
    )
    for name, g in zip(targets, got, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(
            g.cpu(), want[name], msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}"
        )


# ---------------------------------------------------------------------------- properties


def test_causal_outputs_ignore_later_positions(solution):
    E, H = 8, 2
    model, _ = build(solution, E, H, seed=25)
    x = randn(torch.Generator().manual_seed(26), 2, 6, E)
    out = model(x, x, x, is_causal=True)
    gen = torch.Generator().manual_seed(27)
    for t in range(5):
        x2 = x.clone()
        x2[:, t + 1 :] = randn(gen, 2, 5 - t, E)
        out2 = model(x2, x2, x2, is_causal=True)
        assert_close(
            out2[:, : t + 1],
            out[:, : t + 1],
            msg=lambda m, t=t: (
                f"MultiHeadAttention({E}, {H})(x, x, x, is_causal=True): changing x after "
                f"position {t} changed the outputs at positions 0..{t}\n{m}"
            ),
        )


def test_the_inputs_are_left_unchanged(solution):
    query, key, value = inputs(28, B=2, L=4, S=6, E=8)
    mask = random_mask("float", torch.Generator().manual_seed(29), (4, 6))
    before = [t.clone() for t in (query, key, value, mask)]
    model, _ = build(solution, 8, 2, seed=30)
    model(query, key, value, attn_mask=mask, is_causal=True)
    for name, now, then in zip(
        ("query", "key", "value", "attn_mask"), (query, key, value, mask), before, strict=True
    ):
        assert torch.equal(now, then), f"MultiHeadAttention.forward modified its input {name}"


@st.composite
def attention_cases(draw):
    B, L, H, D = (draw(st.integers(1, n)) for n in (3, 5, 3, 3))
    cross = draw(st.booleans())
    S = draw(st.integers(1, 5)) if cross else L
    mask_shape = draw(st.sampled_from(list(MASK_SHAPES.values())))(B, H, L, S)
    return {
        "B": B,
        "L": L,
        "S": S,
        "H": H,
        "E": H * D,
        "cross": cross,
        "bias": draw(st.booleans()),
        "is_causal": draw(st.booleans()),
        "mask_kind": draw(st.sampled_from([None, "bool", "float"])),
        "mask_shape": mask_shape,
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=30)
@given(case=attention_cases())
def test_drawn_sizes_heads_and_masks_match_torch(solution, case):
    seed = case["seed"]
    query, key, value = inputs(seed, case["B"], case["L"], case["S"], case["E"])
    if not case["cross"]:
        key = value = query
    mask = random_mask(
        case["mask_kind"], torch.Generator().manual_seed(seed + 1), case["mask_shape"]
    )
    check(
        solution,
        case["H"],
        query,
        key,
        value,
        attn_mask=mask,
        is_causal=case["is_causal"],
        bias=case["bias"],
        seed=seed + 2,
    )


# ---------------------------------------------------------------------------- errors


def raised_by(call) -> BaseException | None:
    try:
        call()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


@pytest.mark.parametrize(("E", "H"), [(10, 3), (6, 4), (5, 2), (4, 8)])
def test_an_embed_dim_that_num_heads_does_not_divide_raises_a_value_error(solution, E, H):
    call = f"MultiHeadAttention({E}, {H})"
    exc = raised_by(lambda: solution.MultiHeadAttention(E, H))
    assert exc is not None, f"{call} was built; expected ValueError ({H} does not divide {E})"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError ({H} does not divide {E})"
    )
