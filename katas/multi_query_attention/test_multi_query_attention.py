"""Tests for the multi_query_attention kata: parameters, grouping, masks, dtypes, gradients.

The oracle is the math written out below in float64, with the key/value heads repeated by
repeat_interleave; with as many key/value heads as query heads it is also checked against
torch's own nn.MultiheadAttention. Every module's weights are set from seeded draws (after
their names and shapes are checked), so the answers are of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

INF = float("inf")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def construct(solution, E: int, H: int, KV: int | None, bias: bool = False):
    """(module, how it was made): GroupedQueryAttention, or MultiQueryAttention when KV is
    None; bias is passed only when True, so that the default is exercised too."""
    extra = {"bias": True} if bias else {}
    if KV is None:
        call = f"MultiQueryAttention({E}, {H}{', bias=True' if bias else ''})"
        return solution.MultiQueryAttention(E, H, **extra), call
    call = f"GroupedQueryAttention({E}, {H}, {KV}{', bias=True' if bias else ''})"
    return solution.GroupedQueryAttention(E, H, KV, **extra), call


def expected_shapes(E: int, H: int, KV: int, bias: bool) -> dict[str, tuple[int, ...]]:
    kv_dim = KV * (E // H)
    outs = {"q_proj": E, "k_proj": kv_dim, "v_proj": kv_dim, "o_proj": E}
    shapes = {f"{name}.weight": (out, E) for name, out in outs.items()}
    if bias:
        shapes |= {f"{name}.bias": (out,) for name, out in outs.items()}
    return shapes


def check_parameters(module, call: str, E: int, H: int, KV: int, bias: bool) -> None:
    __tracebackhide__ = True
    got = {name: tuple(p.shape) for name, p in module.named_parameters()}
    want = expected_shapes(E, H, KV, bias)
    if got != want:
        wrong = {n: got.get(n, "missing") for n in sorted(set(got) | set(want))}
        wrong = {n: s for n, s in wrong.items() if want.get(n) != s}
        raise AssertionError(
            f"{call}: expected exactly the parameters {want} (name: shape), "
            f"got these wrong or extra: {wrong}"
        )


def build(
    solution,
    E: int,
    H: int,
    KV: int | None,
    bias: bool = False,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
):
    """(module, call): the solution's module, its parameters checked by name and shape, then
    set to seeded draws: weights N(0, 1/E), so that a unit-variance x projects to unit
    variance, and biases N(0, 1/4); in dtype, on device."""
    module, call = construct(solution, E, H, KV, bias)
    check_parameters(module, call, E, H, KV or 1, bias)
    module = module.to(device=device, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            std = E**-0.5 if name.endswith("weight") else 0.5
            p.copy_(randn(gen, *p.shape) * std)
    return module, call


def params_of(module) -> dict[str, torch.Tensor]:
    """The module's parameters, detached, in float64 on the CPU: the oracle's weights."""
    return {n: p.detach().to("cpu", torch.float64) for n, p in module.named_parameters()}


def attend(
    p: dict[str, torch.Tensor],
    x: torch.Tensor,
    H: int,
    KV: int,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
) -> torch.Tensor:
    """Grouped-query attention written out on whatever tensors it is given (they may
    require grad): query head h reads key/value head h // (H // KV)."""
    B, T, E = x.shape
    D = E // H

    def project(name: str, heads: int) -> torch.Tensor:
        y = x @ p[f"{name}.weight"].T
        if f"{name}.bias" in p:
            y = y + p[f"{name}.bias"]
        return y.view(B, T, heads, D).transpose(1, 2)  # (B, heads, T, D)

    q = project("q_proj", H)
    k = project("k_proj", KV).repeat_interleave(H // KV, dim=1)  # (B, H, T, D)
    v = project("v_proj", KV).repeat_interleave(H // KV, dim=1)  # (B, H, T, D)
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)  # (B, H, T, T)
    allowed = torch.ones(T, T, dtype=torch.bool)
    if is_causal:
        allowed = allowed.tril()
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        allowed = allowed & attn_mask.cpu()
    elif attn_mask is not None:
        scores = scores + attn_mask.detach().to("cpu", torch.float64)
    scores = scores.masked_fill(~allowed, -INF)
    e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
    heads = (e / e.sum(dim=-1, keepdim=True)) @ v  # (B, H, T, D)
    out = heads.transpose(1, 2).reshape(B, T, E) @ p["o_proj.weight"].T
    return out + p["o_proj.bias"] if "o_proj.bias" in p else out


def expected(module, x, H, KV, attn_mask=None, is_causal=False) -> torch.Tensor:
    """The float64 answer for the module's own (possibly rounded) weights and x."""
    x64 = x.detach().to("cpu", torch.float64)
    return attend(params_of(module), x64, H, KV, attn_mask, is_causal)


def describe(call: str, x: torch.Tensor, attn_mask=None, is_causal=False) -> str:
    """The forward call, as a reader would write it, for failure messages."""

    def shape(t: torch.Tensor) -> str:
        kind = "" if t.is_contiguous() else "non-contiguous "
        return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}"

    args = [f"x {shape(x)}"]
    if attn_mask is not None:
        args.append(f"attn_mask={shape(attn_mask)}")
    if is_causal:
        args.append("is_causal=True")
    return f"{call}({', '.join(args)})"


def check_forward(module, call, x, H, KV, attn_mask=None, is_causal=False, **tol) -> None:
    """Run the module and compare with the float64 oracle, within the house tolerance for
    x's dtype unless rtol and atol are given; the result must keep x's dtype and device."""
    __tracebackhide__ = True
    tol = tol or tolerance(x.dtype)
    what = describe(call, x, attn_mask, is_causal)
    want = expected(module, x, H, KV, attn_mask, is_causal).to(x.dtype).to(x.device)
    got = module(x, attn_mask=attn_mask, is_causal=is_causal)
    assert_close(got, want, msg=lambda m: f"{what}: wrong output\n{m}", **tol)


def bool_mask(
    gen: torch.Generator, shape: tuple[int, ...], first_key: bool = False
) -> torch.Tensor:
    """True (may attend) with probability 0.6, and at least one True key in every row:
    key 0 when first_key (so that a causal rule cannot forbid the whole row), else a
    random key."""
    mask = torch.rand(shape, generator=gen) < 0.6
    if first_key:
        keep = torch.zeros((*shape[:-1], 1), dtype=torch.long)
    else:
        keep = torch.randint(shape[-1], (*shape[:-1], 1), generator=gen)
    return mask.scatter(-1, keep, True)


def random_mask(
    kind: str | None, gen: torch.Generator, shape: tuple[int, ...], first_key: bool = False
) -> torch.Tensor | None:
    """None; a bool_mask; or a float mask: biases of order one (as ALiBi adds), -inf where
    a bool_mask forbids."""
    if kind is None:
        return None
    allowed = bool_mask(gen, shape, first_key)
    if kind == "bool":
        return allowed
    return randn(gen, *shape).masked_fill(~allowed, -INF)


# ---------------------------------------------------------------------------- parameters


PARAMETER_CASES = {
    "gqa-64-8-2": (64, 8, 2, False),
    "gqa-64-8-2-bias": (64, 8, 2, True),
    "gqa-12-6-3": (12, 6, 3, False),
    "gqa-as-many-kv-heads-as-heads": (12, 4, 4, True),
    "mqa-64-8": (64, 8, None, False),
    "mqa-12-4-bias": (12, 4, None, True),
}


@pytest.mark.parametrize("case", PARAMETER_CASES.values(), ids=PARAMETER_CASES.keys())
def test_the_projections_have_the_names_and_shapes_of_the_contract(solution, case):
    E, H, KV, bias = case
    module, call = construct(solution, E, H, KV, bias)
    check_parameters(module, call, E, H, KV or 1, bias)


PARAMETER_COUNTS = {
    # q and o: 64·64 each; k and v: 64·(2·8) each
    "gqa-64-8-2": (64, 8, 2, False, 4096 + 1024 + 1024 + 4096),
    "gqa-64-8-2-bias": (64, 8, 2, True, 10240 + 64 + 16 + 16 + 64),
    "gqa-64-8-8-is-mha-size": (64, 8, 8, False, 4 * 64 * 64),
    "gqa-64-8-1": (64, 8, 1, False, 4096 + 512 + 512 + 4096),
    "mqa-64-8": (64, 8, None, False, 9216),
    "mqa-64-8-bias": (64, 8, None, True, 9216 + 64 + 8 + 8 + 64),
}


@pytest.mark.parametrize("case", PARAMETER_COUNTS.values(), ids=PARAMETER_COUNTS.keys())
def test_gqa_and_mqa_have_exactly_the_documented_number_of_parameters(solution, case):
    E, H, KV, bias, count = case
    module, call = construct(solution, E, H, KV, bias)
    got = sum(p.numel() for p in module.parameters())
    assert got == count, (
        f"{call} has {got} parameters; expected {count} "
        f"(k_proj and v_proj map {E} features to num_kv_heads * head_dim, not to {E})"
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


ERROR_CASES = {
    "embed-dim-not-divisible-by-heads": ("GroupedQueryAttention", (10, 4, 2), ("10", "4")),
    "mqa-embed-dim-not-divisible-by-heads": ("MultiQueryAttention", (10, 4), ("10", "4")),
    "heads-not-divisible-by-kv-heads": ("GroupedQueryAttention", (30, 6, 4), ("6", "4")),
    "more-kv-heads-than-heads": ("GroupedQueryAttention", (32, 4, 8), ("4", "8")),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_sizes_that_do_not_divide_raise_a_value_error_naming_them(solution, case):
    name, args, numbers = case
    call = f"{name}{args}"
    exc = raised_by(lambda: getattr(solution, name)(*args))
    assert exc is not None, f"{call} built a module; expected ValueError"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError"
    )
    assert all(n in str(exc) for n in numbers), (
        f"{call} raised ValueError({str(exc)!r}); the message should name {' and '.join(numbers)}"
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    module, call = construct(solution, 4, 4, 2)
    check_parameters(module, call, 4, 4, 2, False)
    module = module.double()
    with torch.no_grad():
        module.q_proj.weight.copy_(torch.eye(4))
        module.k_proj.weight.copy_(torch.tensor([[0.0, 1, 0, 0], [0, 0, 1, 0]]))
        module.v_proj.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1]]))
        module.o_proj.weight.copy_(torch.eye(4))
    x = torch.tensor([[[1.0, 0, 0, 2], [0, 1, 1, 0]]], dtype=torch.float64)
    to_4_places = {"rtol": 0, "atol": 5e-5}

    out = module(x, is_causal=True)
    assert_close(
        out,
        torch.tensor([[[1.0, 1.0, 2.0, 2.0], [0.5, 0.2689, 0.5379, 1.0]]], dtype=torch.float64),
        msg=lambda m: f"README example, {call} with is_causal=True\n{m}",
        **to_4_places,
    )
    out = module(x)
    assert_close(
        out,
        torch.tensor([[[0.2689, 0.5, 1.0, 0.2384], [0.5, 0.2689, 0.5379, 1.0]]]).double(),
        msg=lambda m: f"README example, {call} without a mask\n{m}",
        **to_4_places,
    )


# ---------------------------------------------------------------------------- values


HEAD_CASES = {
    "4-heads-2-kv": (4, 2, False),
    "6-heads-3-kv-bias": (6, 3, True),
    "6-heads-2-kv": (6, 2, False),
    "8-heads-1-kv": (8, 1, True),
    "4-heads-4-kv": (4, 4, False),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", HEAD_CASES.values(), ids=HEAD_CASES.keys())
def test_the_output_matches_the_math_with_kv_heads_repeated_in_place(solution, case, device):
    H, KV, bias = case
    module, call = build(solution, 3 * H, H, KV, bias, seed=1, device=device)
    x = randn(torch.Generator().manual_seed(2), 2, 5, 3 * H).to(device)
    check_forward(module, call, x, H, KV)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
def test_multi_query_attention_is_gqa_with_one_kv_head(solution, bias, device):
    mqa, call = build(solution, 12, 4, None, bias, seed=3, device=device)
    x = randn(torch.Generator().manual_seed(4), 2, 5, 12).to(device)
    check_forward(mqa, call, x, 4, 1)
    gqa, gqa_call = build(solution, 12, 4, 1, bias, seed=3, device=device)
    assert_close(
        mqa(x),
        gqa(x),
        msg=lambda m: f"{call} and {gqa_call} with the same weights gave different outputs\n{m}",
    )


@pytest.mark.parametrize("case", HEAD_CASES.values(), ids=HEAD_CASES.keys())
def test_query_head_h_reads_the_values_of_kv_head_h_floordiv_group_size(solution, case):
    """v_proj ignores x and gives kv head g the constant value g + 1, and o_proj is the
    identity, so head h's slice of the output is the number of the kv head it read."""
    H, KV, _ = case
    D, E = 2, 2 * H
    module, call = build(solution, E, H, KV, bias=True)
    with torch.no_grad():
        module.v_proj.weight.zero_()
        module.v_proj.bias.copy_(torch.arange(1.0, KV + 1).repeat_interleave(D))
        module.o_proj.weight.copy_(torch.eye(E))
        module.o_proj.bias.zero_()
    x = randn(torch.Generator().manual_seed(5), 2, 4, E)
    out = module(x)
    read = [round(out[..., h * D : (h + 1) * D].mean().item() - 1, 6) for h in range(H)]
    want = [h // (H // KV) for h in range(H)]
    assert read == want, (
        f"{call}: query heads 0..{H - 1} read kv heads {read}; expected {want} "
        f"(head h uses kv head h // {H // KV}, as repeat_interleave arranges them)"
    )


def full_mask(mask: torch.Tensor | None, is_causal: bool, B: int, H: int, T: int):
    """The mask and the causal rule as one (B, H, T, T) mask, bool or float."""
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    if mask is None:
        mask = causal if is_causal else torch.ones(T, T, dtype=torch.bool)
    elif is_causal:
        mask = mask & causal if mask.dtype == torch.bool else mask.masked_fill(~causal, -INF)
    return mask.expand(B, H, T, T)


MHA_CASES = {
    "no-mask": (None, (6, 6), False, False),
    "bias": (None, (6, 6), False, True),
    "bool-mask": ("bool", (6, 6), False, False),
    "per-head-float-mask": ("float", (2, 3, 6, 6), False, True),
    "key-padding": ("bool", (2, 1, 1, 6), False, False),
    "causal": (None, (6, 6), True, True),
    "bool-mask-and-causal": ("bool", (2, 1, 6, 6), True, False),
}


@pytest.mark.parametrize("case", MHA_CASES.values(), ids=MHA_CASES.keys())
def test_with_as_many_kv_heads_as_heads_it_is_torch_multi_head_attention(solution, case):
    kind, mask_shape, is_causal, bias = case
    B, T, E, H = 2, 6, 12, 3
    module, call = build(solution, E, H, H, bias, seed=6)
    x = randn(torch.Generator().manual_seed(7), B, T, E)
    mask = random_mask(kind, torch.Generator().manual_seed(8), mask_shape, first_key=is_causal)

    mha = nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=torch.float64)
    p = params_of(module)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([p[f"{n}.weight"] for n in PROJECTIONS[:3]]))
        mha.out_proj.weight.copy_(p["o_proj.weight"])
        if bias:
            mha.in_proj_bias.copy_(torch.cat([p[f"{n}.bias"] for n in PROJECTIONS[:3]]))
            mha.out_proj.bias.copy_(p["o_proj.bias"])
    torch_mask = full_mask(mask, is_causal, B, H, T).reshape(B * H, T, T)
    if torch_mask.dtype == torch.bool:
        torch_mask = ~torch_mask  # nn.MultiheadAttention's True means "may not attend"
    want, _ = mha(x, x, x, attn_mask=torch_mask, need_weights=False)

    got = module(x, attn_mask=mask, is_causal=is_causal)
    assert_close(
        got,
        want.detach(),
        msg=lambda m: (
            f"{describe(call, x, mask, is_causal)} differs from "
            f"nn.MultiheadAttention with the same weights\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- masks


MASK_SHAPES = {
    "T-T": lambda B, H, T: (T, T),
    "1-1-T-T": lambda B, H, T: (1, 1, T, T),
    "B-1-T-T": lambda B, H, T: (B, 1, T, T),
    "B-H-T-T-per-query-head": lambda B, H, T: (B, H, T, T),
    "B-1-1-T-key-padding": lambda B, H, T: (B, 1, 1, T),
    "H-1-T-per-head-keys": lambda B, H, T: (H, 1, T),
    "1-T-same-for-every-query": lambda B, H, T: (1, T),
}


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("mask_shape", MASK_SHAPES.values(), ids=MASK_SHAPES.keys())
def test_a_mask_broadcast_to_the_scores_restricts_or_biases_each_query(solution, mask_shape, kind):
    B, H, KV, T = 2, 6, 2, 5
    module, call = build(solution, 12, H, KV, seed=9)
    x = randn(torch.Generator().manual_seed(10), B, T, 12)
    mask = random_mask(kind, torch.Generator().manual_seed(11), mask_shape(B, H, T))
    check_forward(module, call, x, H, KV, attn_mask=mask)


def test_a_float_mask_of_zeros_changes_nothing(solution):
    module, call = build(solution, 12, 6, 3, seed=12)
    x = randn(torch.Generator().manual_seed(13), 2, 5, 12)
    check_forward(module, call, x, 6, 3, attn_mask=torch.zeros(5, 5, dtype=torch.float64))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("KV", [1, 2, 4], ids=["mqa", "gqa", "mha"])
def test_causal_attention_lets_query_i_see_keys_0_to_i(solution, KV, device):
    module, call = build(solution, 8, 4, KV, seed=14, device=device)
    x = randn(torch.Generator().manual_seed(15), 2, 6, 8).to(device)
    check_forward(module, call, x, 4, KV, is_causal=True)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("device", DEVICES)
def test_a_mask_and_is_causal_together_apply_both_restrictions(solution, device, kind):
    module, call = build(solution, 12, 6, 2, seed=16, device=device)
    x = randn(torch.Generator().manual_seed(17), 2, 6, 12).to(device)
    mask = random_mask(kind, torch.Generator().manual_seed(18), (2, 1, 6, 6), first_key=True)
    check_forward(module, call, x, 6, 2, attn_mask=mask.to(device), is_causal=True)


def test_causal_outputs_ignore_later_positions(solution):
    module, call = build(solution, 12, 6, 3, seed=19)
    gen = torch.Generator().manual_seed(20)
    x = randn(gen, 2, 6, 12)
    out = module(x, is_causal=True)
    for t in range(5):
        x2 = x.clone()
        x2[:, t + 1 :] = randn(gen, 2, 5 - t, 12)
        assert_close(
            module(x2, is_causal=True)[:, : t + 1],
            out[:, : t + 1],
            msg=lambda m, t=t: (
                f"{call} with is_causal=True: changing x after position {t} "
                f"changed the outputs at positions 0..{t}\n{m}"
            ),
        )


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64],
    ids=["float16", "bfloat16", "float32", "float64"],
)
def test_the_output_keeps_the_dtype_of_x(solution, dtype):
    module, call = build(solution, 16, 4, 2, bias=True, seed=21, dtype=dtype)
    x = randn(torch.Generator().manual_seed(22), 2, 6, 16).to(dtype)
    mask = bool_mask(torch.Generator().manual_seed(23), (6, 6), first_key=True)
    out = module(x, attn_mask=mask, is_causal=True)
    assert out.dtype == dtype, f"{describe(call, x, mask, True)} returned {out.dtype}"
    check_forward(module, call, x, 4, 2, attn_mask=mask, is_causal=True)


def test_x_is_left_unchanged_and_may_be_a_non_contiguous_view(solution):
    module, call = build(solution, 12, 6, 2, seed=24)
    x = randn(torch.Generator().manual_seed(25), 5, 2, 24).transpose(0, 1)[..., ::2]
    before = x.clone()
    check_forward(module, call, x, 6, 2, is_causal=True)
    assert torch.equal(x, before), f"{describe(call, x, is_causal=True)} modified x"


# ---------------------------------------------------------------------------- gradients


GRADIENT_CASES = {
    "gqa": (4, 2, False, None, False),
    "gqa-bias-bool-mask": (6, 3, True, "bool", False),
    "mqa-float-mask-causal": (4, 1, False, "float", True),
    "mha-bias-causal": (4, 4, True, None, True),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_gradients_of_x_and_of_every_parameter_match_the_math(solution, case, device):
    H, KV, bias, kind, is_causal = case
    B, T, E = 2, 5, 2 * H
    module, call = build(solution, E, H, KV, bias, seed=26, device=device)
    gen = torch.Generator().manual_seed(27)
    x = randn(gen, B, T, E)
    mask = random_mask(kind, gen, (B, 1, T, T), first_key=True)
    upstream = randn(gen, B, T, E)
    what = describe(call, x, mask, is_causal)

    leaves = {n: p.clone().requires_grad_() for n, p in params_of(module).items()}
    x_leaf = x.clone().requires_grad_()
    out = attend(leaves, x_leaf, H, KV, mask, is_causal)
    want = torch.autograd.grad((out * upstream).sum(), [x_leaf, *leaves.values()])

    names = list(leaves)
    x_dev = x.to(device).requires_grad_()
    mask_dev = None if mask is None else mask.to(device)
    out = module(x_dev, attn_mask=mask_dev, is_causal=is_causal)
    params = dict(module.named_parameters())
    got = torch.autograd.grad(
        (out * upstream.to(device)).sum(), [x_dev, *(params[n] for n in names)], allow_unused=True
    )
    for name, g, w in zip(["x", *names], got, want, strict=True):
        assert g is not None, f"{what}: the output does not depend on {name}"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{what}: gradient of {name}\n{m}")


@pytest.mark.parametrize(("H", "KV"), [(6, 3), (6, 2), (4, 1), (4, 4)], ids=lambda n: str(n))
def test_each_kv_head_gets_gradient_only_from_its_own_group_of_query_heads(solution, H, KV):
    """With o_proj the identity, output columns h*D:(h+1)*D are query head h's output: a
    loss on them alone must send gradient to query head h's rows of q_proj and to kv head
    h // G's rows of k_proj and v_proj, and to no other rows."""
    D, E, G = 2, 2 * H, H // KV
    module, call = build(solution, E, H, KV, seed=28)
    with torch.no_grad():
        module.o_proj.weight.copy_(torch.eye(E))
    gen = torch.Generator().manual_seed(29)
    x, upstream = randn(gen, 2, 5, E), randn(gen, 2, 5, E)
    out = module(x)
    weights = [getattr(module, n).weight for n in PROJECTIONS[:3]]
    for h in range(H):
        head_only = torch.zeros(E, dtype=torch.float64)
        head_only[h * D : (h + 1) * D] = 1
        loss = (out * upstream * head_only).sum()
        grads = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
        for name, grad, head, heads in zip(
            PROJECTIONS[:3], grads, [h, h // G, h // G], [H, KV, KV], strict=True
        ):
            kind = "query" if name == "q_proj" else "key/value"
            assert grad is not None, f"{call}: no gradient reached {name} from query head {h}"
            per_head = grad.view(heads, D, E).abs().amax(dim=(1, 2))  # (heads,)
            reached = [i for i in range(heads) if per_head[i] > 1e-12 * per_head.max()]
            assert reached == [head], (
                f"{call}: the output of query head {h} alone sends gradient to the rows of "
                f"{kind} heads {reached} of {name}.weight; expected {kind} head {head} only "
                f"(query head h uses kv head h // {G})"
            )


# ---------------------------------------------------------------------------- properties


@st.composite
def gqa_cases(draw):
    H = draw(st.integers(1, 8))
    KV = draw(st.sampled_from([d for d in range(1, H + 1) if H % d == 0]))
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    shapes = [(T, T), (B, 1, T, T), (B, H, T, T), (B, 1, 1, T), (H, 1, T), (1, T)]
    return {
        "H": H,
        "KV": KV,
        "D": draw(st.integers(1, 4)),
        "B": B,
        "T": T,
        "bias": draw(st.booleans()),
        "is_causal": draw(st.booleans()),
        "mask_kind": draw(st.sampled_from([None, "bool", "float"])),
        "mask_shape": draw(st.sampled_from(shapes)),
        "strided": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=30)
@given(case=gqa_cases())
def test_drawn_head_counts_shapes_and_masks_match_the_math(solution, case):
    H, KV, B, T, seed = case["H"], case["KV"], case["B"], case["T"], case["seed"]
    E = H * case["D"]
    module, call = build(solution, E, H, KV, case["bias"], seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = randn(gen, B, T, 2 * E)[..., ::2] if case["strided"] else randn(gen, B, T, E)
    mask = random_mask(case["mask_kind"], gen, case["mask_shape"], first_key=case["is_causal"])
    check_forward(module, call, x, H, KV, attn_mask=mask, is_causal=case["is_causal"])
