"""Tests for the attention kata: values, masks, causality, scale, stability, gradients, errors.

The oracle is torch's own attention in float64 for the output and the formula written out
below for the weights; every draw is seeded and sized so that the answers are of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

INF = float("inf")


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)


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


def float_mask(
    gen: torch.Generator,
    shape: tuple[int, ...],
    dtype: torch.dtype = torch.float64,
    first_key: bool = False,
) -> torch.Tensor:
    """Biases of order one (as ALiBi adds), -inf where a random boolean mask forbids."""
    bias = randn(gen, *shape, dtype=dtype)
    return bias.masked_fill(~bool_mask(gen, shape, first_key), -INF)


def random_mask(
    kind: str | None,
    gen: torch.Generator,
    shape: tuple[int, ...],
    first_key: bool = False,
    device: str = "cpu",
) -> torch.Tensor | None:
    """None, a bool_mask or a float_mask, as kind says, drawn on the CPU and moved to device."""
    if kind is None:
        return None
    if kind == "bool":
        return bool_mask(gen, shape, first_key).to(device)
    return float_mask(gen, shape, first_key=first_key).to(device)


def for_torch(
    mask: torch.Tensor | None, is_causal: bool, L: int, S: int
) -> tuple[torch.Tensor | None, bool]:
    """(attn_mask, is_causal) that torch's attention accepts for the same rules: torch
    refuses a mask together with is_causal, so the causal rule is folded into the mask."""
    if mask is None or not is_causal:
        return mask, is_causal
    causal = torch.ones(L, S, dtype=torch.bool).tril()  # top-left aligned
    if mask.dtype == torch.bool:
        return mask & causal, False
    return mask.masked_fill(~causal, -INF), False


def expected(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(out, weights) in float64 on the CPU: out from torch's own attention, weights from
    the formula."""
    q, k, v = (t.detach().cpu().to(torch.float64) for t in (q, k, v))
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    mask = None if attn_mask is None else attn_mask.detach().cpu()
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.to(torch.float64)

    torch_mask, torch_causal = for_torch(mask, is_causal, L, S)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=torch_mask, is_causal=torch_causal, scale=scale
    )

    scores = q @ k.transpose(-1, -2) * (1 / math.sqrt(E) if scale is None else scale)
    allowed = torch.ones_like(scores, dtype=torch.bool)
    if is_causal:
        allowed = allowed & torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None and mask.dtype == torch.bool:
        allowed = allowed & mask
    elif mask is not None:
        scores = scores + mask
    scores = scores.masked_fill(~allowed, -INF)
    e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
    return out, e / e.sum(dim=-1, keepdim=True)


def describe(q, k, v, attn_mask=None, is_causal=False, scale=None) -> str:
    """The call, as a reader would write it, for failure messages."""

    def shape(t: torch.Tensor) -> str:
        kind = "" if t.is_contiguous() else "non-contiguous "
        where = "" if t.device.type == "cpu" else f" on {t.device}"
        return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"

    args = [f"q {shape(q)}", f"k {shape(k)}", f"v {shape(v)}"]
    if attn_mask is not None:
        args.append(f"attn_mask={shape(attn_mask)}")
    if is_causal:
        args.append("is_causal=True")
    if scale is not None:
        args.append(f"scale={scale}")
    return f"scaled_dot_product_attention({', '.join(args)})"


def check_against_torch(solution, q, k, v, attn_mask=None, is_causal=False, scale=None, **tol):
    """Call the solution and compare out and weights with the float64 oracle, within the
    house tolerance for q's dtype unless rtol and atol are given. Both must have q's dtype
    and live on q's device (assert_close checks both)."""
    __tracebackhide__ = True
    tol = tol or tolerance(q.dtype)
    call = describe(q, k, v, attn_mask, is_causal, scale)
    want_out, want_weights = expected(q, k, v, attn_mask, is_causal, scale)
    out, weights = solution.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
    )
    like_q = {"device": q.device, "dtype": q.dtype}
    assert_close(out, want_out.to(**like_q), msg=lambda m: f"{call}: out is wrong\n{m}", **tol)
    assert_close(
        weights, want_weights.to(**like_q), msg=lambda m: f"{call}: weights are wrong\n{m}", **tol
    )


def qkv(
    seed: int,
    batch: tuple[int, ...],
    L: int,
    S: int,
    E: int = 4,
    Ev: int = 6,
    device: str = "cpu",
    **kw,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded standard-normal q (..., L, E), k (..., S, E), v (..., S, Ev), drawn on the CPU
    and moved to device."""
    gen = torch.Generator().manual_seed(seed)
    q = randn(gen, *batch, L, E, **kw)
    k = randn(gen, *batch, S, E, **kw)
    v = randn(gen, *batch, S, Ev, **kw)
    return q.to(device), k.to(device), v.to(device)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    q = torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0]])
    k = torch.tensor([[0.0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    v = torch.tensor([[1.0, 0], [0, 1], [5, 5]])
    to_4_places = {"rtol": 0, "atol": 5e-5}

    out, weights = solution.scaled_dot_product_attention(q, k, v, is_causal=True)
    call = "README example, is_causal=True"
    assert weights[0, 1] == weights[0, 2] == weights[1, 2] == 0, (
        f"{call}: keys after the query must get weight exactly 0, got weights {weights.tolist()}"
    )
    assert_close(
        weights,
        torch.tensor([[1.0, 0.0, 0.0], [0.2689, 0.7311, 0.0]]),
        msg=lambda m: f"{call}: weights\n{m}",
        **to_4_places,
    )
    assert_close(
        out,
        torch.tensor([[1.0, 0.0], [0.2689, 0.7311]]),
        msg=lambda m: f"{call}: out\n{m}",
        **to_4_places,
    )

    out, weights = solution.scaled_dot_product_attention(q, k, v)
    call = "README example without a mask"
    assert_close(
        weights,
        torch.tensor([[0.2327, 0.3837, 0.3837], [0.1554, 0.4223, 0.4223]]),
        msg=lambda m: f"{call}: weights\n{m}",
        **to_4_places,
    )
    assert_close(
        out,
        torch.tensor([[2.1510, 2.3019], [2.2670, 2.5339]]),
        msg=lambda m: f"{call}: out\n{m}",
        **to_4_places,
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "batch", [(), (3,), (2, 3), (2, 1, 3)], ids=["no-batch", "B", "B-H", "three-batch-dims"]
)
@pytest.mark.parametrize("device", DEVICES)
def test_output_and_weights_match_torch_for_any_number_of_batch_dims(solution, device, batch):
    q, k, v = qkv(1, batch, L=5, S=7, device=device)
    check_against_torch(solution, q, k, v)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
def test_queries_and_keys_of_different_lengths_match_torch(solution, device, dtype):
    for L, S in [(1, 6), (6, 1), (3, 8), (8, 3)]:
        q, k, v = qkv(2, (2, 3), L=L, S=S, E=5, Ev=3, device=device, dtype=dtype)
        check_against_torch(solution, q, k, v)


MASK_SHAPES = {
    "L-S": lambda B, H, L, S: (L, S),
    "1-1-L-S": lambda B, H, L, S: (1, 1, L, S),
    "B-1-L-S": lambda B, H, L, S: (B, 1, L, S),
    "B-H-L-S": lambda B, H, L, S: (B, H, L, S),
    "B-1-1-S-key-padding": lambda B, H, L, S: (B, 1, 1, S),
    "1-S-same-for-every-query": lambda B, H, L, S: (1, S),
}


@pytest.mark.parametrize("mask_shape", MASK_SHAPES.values(), ids=MASK_SHAPES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_a_boolean_mask_lets_each_query_attend_only_where_it_is_true(solution, device, mask_shape):
    B, H, L, S = 2, 3, 5, 7
    q, k, v = qkv(3, (B, H), L, S, device=device)
    mask = bool_mask(torch.Generator().manual_seed(4), mask_shape(B, H, L, S)).to(device)
    check_against_torch(solution, q, k, v, attn_mask=mask)


@pytest.mark.parametrize("mask_shape", MASK_SHAPES.values(), ids=MASK_SHAPES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_a_float_mask_is_added_to_the_scaled_scores(solution, device, mask_shape):
    B, H, L, S = 2, 3, 5, 7
    q, k, v = qkv(5, (B, H), L, S, device=device)
    mask = float_mask(torch.Generator().manual_seed(6), mask_shape(B, H, L, S)).to(device)
    check_against_torch(solution, q, k, v, attn_mask=mask)


@pytest.mark.parametrize("device", DEVICES)
def test_a_float_mask_of_zeros_changes_nothing(solution, device):
    q, k, v = qkv(7, (2,), L=4, S=6, device=device)
    zeros = torch.zeros(4, 6, dtype=torch.float64, device=device)
    check_against_torch(solution, q, k, v, attn_mask=zeros)


@pytest.mark.parametrize(
    ("L", "S"), [(5, 5), (3, 7), (7, 3), (1, 4), (4, 1)], ids=["L=S", "L<S", "L>S", "L=1", "S=1"]
)
@pytest.mark.parametrize("device", DEVICES)
def test_causal_attention_counts_from_the_top_left_corner(solution, device, L, S):
    q, k, v = qkv(8, (2, 3), L, S, device=device)
    check_against_torch(solution, q, k, v, is_causal=True)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize(("L", "S"), [(5, 5), (3, 7), (7, 3)], ids=["L=S", "L<S", "L>S"])
@pytest.mark.parametrize("device", DEVICES)
def test_a_mask_and_is_causal_together_apply_both_restrictions(solution, device, kind, L, S):
    q, k, v = qkv(9, (2, 3), L, S, device=device)
    gen = torch.Generator().manual_seed(10)
    mask = random_mask(kind, gen, (2, 1, L, S), first_key=True, device=device)
    check_against_torch(solution, q, k, v, attn_mask=mask, is_causal=True)


@pytest.mark.parametrize("scale", [0.3, 2.0, -0.5])
@pytest.mark.parametrize("device", DEVICES)
def test_a_given_scale_replaces_one_over_sqrt_e(solution, device, scale):
    q, k, v = qkv(11, (2,), L=4, S=6, E=9, Ev=2, device=device)
    check_against_torch(solution, q, k, v, scale=scale)


@pytest.mark.parametrize("device", DEVICES)
def test_a_zero_scale_gives_every_allowed_key_the_same_weight(solution, device):
    q, k, v = qkv(12, (2,), L=4, S=6, device=device)
    check_against_torch(solution, q, k, v, scale=0.0)
    _, weights = solution.scaled_dot_product_attention(q, k, v, scale=0.0)
    assert_close(
        weights,
        torch.full((2, 4, 6), 1 / 6, dtype=torch.float64, device=device),
        msg=lambda m: f"{describe(q, k, v, scale=0.0)}: expected uniform weights 1/6\n{m}",
    )


@pytest.mark.parametrize("device", DEVICES)
def test_the_default_scale_uses_the_size_of_q_and_k_not_of_v(solution, device):
    q, k, v = qkv(13, (3,), L=4, S=5, E=16, Ev=1, device=device)
    check_against_torch(solution, q, k, v)


# ---------------------------------------------------------------------------- weights


@pytest.mark.parametrize("device", DEVICES)
def test_weights_rows_sum_to_one_and_are_zero_at_forbidden_keys(solution, device):
    q, k, v = qkv(14, (2, 3), L=6, S=9, device=device, dtype=torch.float32)
    mask = bool_mask(torch.Generator().manual_seed(15), (2, 1, 6, 9), first_key=True)
    mask = mask.to(device)
    _, weights = solution.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    call = describe(q, k, v, mask, is_causal=True)
    assert_close(
        weights.sum(dim=-1),
        torch.ones(2, 3, 6, device=device),
        msg=lambda m: f"{call}: each row of weights should sum to 1\n{m}",
    )
    causal = torch.ones(6, 9, dtype=torch.bool, device=device).tril()
    forbidden = ~(mask & causal).expand(2, 3, 6, 9)
    worst = weights[forbidden].abs().max().item()
    assert worst < 1e-6, f"{call}: a forbidden key got weight {worst:.3g}, expected 0"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
def test_huge_scores_give_finite_and_correct_results(solution, device, dtype):
    """Every score is 1e4 plus a number of order one: exp(1e4) overflows in any dtype."""
    gen = torch.Generator().manual_seed(16)
    q, k, v = randn(gen, 2, 5, 4), randn(gen, 2, 7, 4), randn(gen, 2, 7, 3)
    q[..., -1], k[..., -1] = 200.0, 100.0  # adds 200 * 100 / sqrt(4) = 1e4 to every score
    q, k, v = (t.to(device=device, dtype=dtype) for t in (q, k, v))
    call = describe(q, k, v)
    out, weights = solution.scaled_dot_product_attention(q, k, v)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all(), (
        f"{call} with every score near 1e4 gave inf or nan: subtract each row's max before exp"
    )
    # float32 rounds a score of 1e4 to about 1e-3, so the weights can only be that close
    tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.float32 else {}
    check_against_torch(solution, q, k, v, **tol)


# ---------------------------------------------------------------------------- dtypes, devices


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64],
    ids=["float16", "bfloat16", "float32", "float64"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_results_keep_the_dtype_of_q(solution, device, dtype):
    q, k, v = qkv(17, (2,), L=4, S=6, device=device, dtype=dtype)
    mask = bool_mask(torch.Generator().manual_seed(18), (4, 6), first_key=True).to(device)
    out, weights = solution.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    call = describe(q, k, v, mask, is_causal=True)
    assert out.dtype == dtype and weights.dtype == dtype, (
        f"{call} returned out {out.dtype} and weights {weights.dtype}; expected {dtype} for both"
    )
    check_against_torch(solution, q, k, v, attn_mask=mask, is_causal=True)


@pytest.mark.parametrize("device", DEVICES)
def test_the_results_live_on_the_device_of_q(solution, device):
    q, k, v = qkv(19, (2,), L=4, S=6, dtype=torch.float32)
    mask = bool_mask(torch.Generator().manual_seed(20), (4, 6), first_key=True)
    q, k, v, mask = (t.to(device) for t in (q, k, v, mask))
    out, weights = solution.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    call = describe(q, k, v, mask, is_causal=True)
    assert out.device == q.device and weights.device == q.device, (
        f"{call} on {device} returned out on {out.device} and weights on {weights.device}"
    )
    want_out, want_weights = expected(q.cpu(), k.cpu(), v.cpu(), mask.cpu(), is_causal=True)
    tol = tolerance(torch.float32)
    assert_close(out.cpu(), want_out.float(), msg=lambda m: f"{call}: out\n{m}", **tol)
    assert_close(weights.cpu(), want_weights.float(), msg=lambda m: f"{call}: weights\n{m}", **tol)


# ---------------------------------------------------------------------------- gradients


GRADIENT_CASES = {
    "no-mask": (4, 6, None, False),
    "bool-mask": (4, 6, "bool", False),
    "float-mask": (4, 6, "float", False),
    "causal-L<S": (3, 6, None, True),
    "causal-L>S": (6, 3, None, True),
    "mask-and-causal": (5, 5, "bool", True),
}


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_for_q_k_and_v_match_torch(solution, device, case):
    """The oracle's gradients in float64 on the CPU; the solution's on the device."""
    L, S, kind, is_causal = case
    q, k, v = qkv(21, (2, 2), L, S)
    gen = torch.Generator().manual_seed(22)
    mask = random_mask(kind, gen, (2, 1, L, S), first_key=True)
    upstream = randn(gen, 2, 2, L, 6)

    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    torch_mask, torch_causal = for_torch(mask, is_causal, L, S)
    want_out = F.scaled_dot_product_attention(*leaves, attn_mask=torch_mask, is_causal=torch_causal)
    want = torch.autograd.grad((want_out * upstream).sum(), leaves)

    leaves = [t.to(device).requires_grad_() for t in (q, k, v)]
    mask = None if mask is None else mask.to(device)
    call = describe(*leaves, mask, is_causal)
    out, _ = solution.scaled_dot_product_attention(*leaves, attn_mask=mask, is_causal=is_causal)
    got = torch.autograd.grad((out * upstream.to(device)).sum(), leaves, allow_unused=True)
    for name, g, w in zip("qkv", got, want, strict=True):
        assert g is not None, f"{call}: out does not depend on {name} (no gradient reached it)"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_passes_for_out_and_weights_in_float64(solution, device):
    q, k, v = qkv(23, (2,), L=3, S=4, E=3, Ev=2, device=device)
    mask = float_mask(torch.Generator().manual_seed(24), (3, 4), first_key=True).to(device)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]

    def attention(q, k, v):
        return solution.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)

    assert torch.autograd.gradcheck(attention, leaves, fast_mode=True), (
        f"gradcheck failed for {describe(q, k, v, mask, is_causal=True)}"
    )


# ---------------------------------------------------------------------------- properties


@pytest.mark.parametrize("device", DEVICES)
def test_causal_outputs_ignore_future_keys_and_values(solution, device):
    q, k, v = qkv(25, (2,), L=6, S=6, device=device)
    out, _ = solution.scaled_dot_product_attention(q, k, v, is_causal=True)
    gen = torch.Generator().manual_seed(26)
    for t in range(6):
        k2, v2 = k.clone(), v.clone()
        k2[:, t + 1 :] = randn(gen, 2, 5 - t, 4).to(device)
        v2[:, t + 1 :] = randn(gen, 2, 5 - t, 6).to(device)
        out2, _ = solution.scaled_dot_product_attention(q, k2, v2, is_causal=True)
        assert_close(
            out2[:, : t + 1],
            out[:, : t + 1],
            msg=lambda m, t=t: (
                f"causal attention: changing keys and values after position {t} "
                f"changed the outputs of queries 0..{t}\n{m}"
            ),
        )


@pytest.mark.parametrize("device", DEVICES)
def test_shuffling_keys_and_values_together_changes_nothing(solution, device):
    q, k, v = qkv(27, (2,), L=4, S=7, device=device)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(28)).to(device)
    out, weights = solution.scaled_dot_product_attention(q, k, v)
    out2, weights2 = solution.scaled_dot_product_attention(q, k[:, perm], v[:, perm])
    assert_close(out2, out, msg=lambda m: f"out changed when the keys were shuffled\n{m}")
    assert_close(weights2, weights[..., perm], msg=lambda m: f"weights did not follow\n{m}")


def test_the_inputs_are_left_unchanged(solution):
    q, k, v = qkv(29, (2,), L=4, S=6)
    mask = float_mask(torch.Generator().manual_seed(30), (4, 6), first_key=True)
    before = [t.clone() for t in (q, k, v, mask)]
    solution.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    for name, now, then in zip(("q", "k", "v", "attn_mask"), (q, k, v, mask), before, strict=True):
        assert torch.equal(now, then), f"scaled_dot_product_attention modified its input {name}"


def layout(gen_seed: int, shape: tuple[int, ...], how: str, device: str = "cpu") -> torch.Tensor:
    """A float64 tensor of the shape on device, laid out as asked: contiguous, a transposed
    view of its last two dims, or every other element of a wider tensor (the view is taken
    on the device, where moving a strided tensor would make it contiguous)."""
    gen = torch.Generator().manual_seed(gen_seed)
    *batch, rows, cols = shape
    if how == "transposed":
        return randn(gen, *batch, cols, rows).to(device).transpose(-1, -2)
    if how == "strided":
        return randn(gen, *batch, rows, 2 * cols).to(device)[..., ::2]
    return randn(gen, *shape).to(device)


@st.composite
def attention_cases(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    L, S, E, Ev = (draw(st.integers(1, 6)) for _ in range(4))
    layouts = st.sampled_from(["contiguous", "transposed", "strided"])
    is_causal = draw(st.booleans())
    mask_kind = draw(st.sampled_from([None, "bool", "float"]))
    # a mask keeps some trailing batch dims, each at full size or 1, then (L or 1, S)
    kept = batch[len(batch) - draw(st.integers(0, len(batch))) :]
    mask_shape = (*(draw(st.sampled_from([n, 1])) for n in (*kept, L)), S)
    return {
        "q": (*batch, L, E),
        "k": (*batch, S, E),
        "v": (*batch, S, Ev),
        "layouts": [draw(layouts) for _ in range(3)],
        "is_causal": is_causal,
        "mask_kind": mask_kind,
        "mask_shape": mask_shape,
        "seed": draw(st.integers(0, 2**16)),
    }


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=30)
@given(case=attention_cases())
def test_drawn_shapes_masks_and_memory_layouts_match_torch(solution, device, case):
    seed = case["seed"]
    q, k, v = (
        layout(seed + i, case[name], how, device)
        for i, (name, how) in enumerate(zip("qkv", case["layouts"], strict=True))
    )
    gen = torch.Generator().manual_seed(seed + 3)
    mask = random_mask(
        case["mask_kind"], gen, case["mask_shape"], first_key=case["is_causal"], device=device
    )
    check_against_torch(solution, q, k, v, attn_mask=mask, is_causal=case["is_causal"])


# ---------------------------------------------------------------------------- errors


def raised_by(call) -> BaseException | None:
    try:
        call()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


@pytest.mark.parametrize(
    ("q_shape", "k_shape", "v_shape", "sizes", "what"),
    [
        ((2, 3, 5), (2, 4, 7), (2, 4, 6), ("5", "7"), "q and k differ in E"),
        ((3, 5), (4, 7), (4, 5), ("5", "7"), "q and k differ in E, no batch dims"),
        ((2, 3, 5), (2, 4, 5), (2, 6, 7), ("4", "6"), "k and v differ in S"),
        ((3, 5), (8, 5), (9, 5), ("8", "9"), "k and v differ in S, no batch dims"),
    ],
    ids=["E", "E-unbatched", "S", "S-unbatched"],
)
def test_mismatched_sizes_raise_a_value_error_naming_them(
    solution, q_shape, k_shape, v_shape, sizes, what
):
    gen = torch.Generator().manual_seed(31)
    q, k, v = randn(gen, *q_shape), randn(gen, *k_shape), randn(gen, *v_shape)
    call = describe(q, k, v)
    exc = raised_by(lambda: solution.scaled_dot_product_attention(q, k, v))
    assert exc is not None, f"{call} returned a result; expected ValueError ({what})"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError ({what})"
    )
    assert all(size in str(exc) for size in sizes), (
        f"{call} raised ValueError({str(exc)!r}); the message should name the sizes "
        f"{' and '.join(sizes)} ({what})"
    )
