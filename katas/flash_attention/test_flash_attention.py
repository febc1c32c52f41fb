"""Tests for the flash_attention kata: values, partial blocks, causality, stability, dtypes,
memory (a dispatch audit of every tensor the solution creates), causal block skipping, errors.

The oracle is torch's own attention in float64; every draw is seeded and sized so that the
answers are of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, TensorAudit, assert_close, tolerance

# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)


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


def expected(q, k, v, is_causal: bool = False) -> torch.Tensor:
    """torch's own attention, in float64 on the CPU."""
    q, k, v = (t.cpu().to(torch.float64) for t in (q, k, v))
    return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)


def describe(q, k, v, is_causal=False, block_q=None, block_k=None) -> str:
    """The call, as a reader would write it, for failure messages."""

    def shape(t: torch.Tensor) -> str:
        kind = "" if t.is_contiguous() else "non-contiguous "
        where = "" if t.device.type == "cpu" else f" on {t.device}"
        return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"

    args = [f"q {shape(q)}", f"k {shape(k)}", f"v {shape(v)}"]
    if is_causal:
        args.append("is_causal=True")
    if block_q is not None:
        args.append(f"block_q={block_q}")
    if block_k is not None:
        args.append(f"block_k={block_k}")
    return f"flash_attention({', '.join(args)})"


def blocks(block_q: int | None, block_k: int | None) -> dict[str, int]:
    """The block arguments to pass: None leaves the default."""
    given_blocks = {"block_q": block_q, "block_k": block_k}
    return {name: size for name, size in given_blocks.items() if size is not None}


def check_against_torch(solution, q, k, v, is_causal=False, block_q=None, block_k=None, **tol):
    """Call the solution and compare its output with the float64 oracle, within the house
    tolerance for q's dtype unless rtol and atol are given. The output must have q's dtype
    and live on q's device (assert_close checks both)."""
    __tracebackhide__ = True
    tol = tol or tolerance(q.dtype)
    call = describe(q, k, v, is_causal, block_q, block_k)
    want = expected(q, k, v, is_causal).to(device=q.device, dtype=q.dtype)
    out = solution.flash_attention(q, k, v, is_causal=is_causal, **blocks(block_q, block_k))
    assert_close(out, want, msg=lambda m: f"{call}: out is wrong\n{m}", **tol)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    q = torch.tensor([[2.0, 0, 0, 0], [4, 0, 0, 0]])
    k = torch.tensor([[0.0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0]])
    v = torch.tensor([[1.0, 0], [0, 1], [1, 1]])
    to_4_places = {"rtol": 0, "atol": 5e-5}

    out = solution.flash_attention(q, k, v, block_q=2, block_k=2)
    assert_close(
        out,
        torch.tensor([[0.7553, 0.9100], [0.8827, 0.9841]]),
        msg=lambda m: f"README example, block_q=2, block_k=2: out\n{m}",
        **to_4_places,
    )
    out = solution.flash_attention(q, k, v, is_causal=True, block_q=2, block_k=2)
    assert_close(
        out,
        torch.tensor([[1.0, 0.0], [0.1192, 0.8808]]),
        msg=lambda m: f"README example, is_causal=True, block_q=2, block_k=2: out\n{m}",
        **to_4_places,
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize(
    "batch", [(), (3,), (2, 3), (2, 1, 3)], ids=["no-batch", "B", "B-H", "three-batch-dims"]
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_matches_torch_for_any_number_of_batch_dims(solution, device, batch, is_causal):
    q, k, v = qkv(1, batch, L=11, S=13, device=device)
    check_against_torch(solution, q, k, v, is_causal, block_q=4, block_k=5)


# (L, S, block_q, block_k): blocks that leave a partial last block, in queries, keys or both
PARTIAL_BLOCKS = {
    "L=S=10-blocks-4": (10, 10, 4, 4),
    "L=10-S=17-blocks-3-5": (10, 17, 3, 5),
    "L=17-S=10-blocks-5-3": (17, 10, 5, 3),
    "only-the-queries-partial": (9, 12, 4, 6),
    "only-the-keys-partial": (12, 9, 6, 4),
    "one-extra-query-and-key": (13, 13, 6, 6),
    "block_q-smaller-than-block_k": (16, 16, 3, 7),
    "block_q-larger-than-block_k": (16, 16, 7, 3),
}


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("case", PARTIAL_BLOCKS.values(), ids=PARTIAL_BLOCKS.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_blocks_that_do_not_divide_the_lengths_leave_no_query_or_key_out(
    solution, device, case, is_causal
):
    L, S, block_q, block_k = case
    q, k, v = qkv(2, (2, 3), L, S, E=5, Ev=3, device=device)
    check_against_torch(solution, q, k, v, is_causal, block_q, block_k)


# (L, S, block_q, block_k): one-element tiles, and tiles larger than the whole input
EXTREME_BLOCKS = {
    "blocks-of-1": (7, 9, 1, 1),
    "one-query-per-block": (7, 9, 1, 4),
    "one-key-per-block": (9, 7, 4, 1),
    "blocks-larger-than-L-and-S": (5, 6, 8, 8),
    "block_q-larger-than-L": (5, 12, 9, 5),
    "block_k-larger-than-S": (12, 5, 5, 9),
    "one-query": (1, 9, 4, 4),
    "one-key": (9, 1, 4, 4),
}


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("case", EXTREME_BLOCKS.values(), ids=EXTREME_BLOCKS.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_blocks_of_one_and_blocks_larger_than_the_input_work(solution, device, case, is_causal):
    L, S, block_q, block_k = case
    q, k, v = qkv(3, (2,), L, S, device=device)
    check_against_torch(solution, q, k, v, is_causal, block_q, block_k)


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("device", DEVICES)
def test_the_default_blocks_of_64_work_for_lengths_past_two_blocks(solution, device, is_causal):
    q, k, v = qkv(4, (2,), L=150, S=140, E=8, Ev=4, device=device)
    check_against_torch(solution, q, k, v, is_causal)


@pytest.mark.parametrize(
    ("L", "S"), [(5, 12), (12, 5), (1, 8), (8, 1), (3, 3)], ids=["L<S", "L>S", "L=1", "S=1", "L=S"]
)
@pytest.mark.parametrize("device", DEVICES)
def test_causal_attention_counts_from_the_top_left_corner(solution, device, L, S):
    q, k, v = qkv(5, (2, 3), L, S, device=device)
    check_against_torch(solution, q, k, v, True, block_q=2, block_k=3)


@pytest.mark.parametrize("device", DEVICES)
def test_the_scale_uses_the_size_of_q_and_k_not_of_v(solution, device):
    q, k, v = qkv(6, (3,), L=6, S=7, E=16, Ev=1, device=device)
    check_against_torch(solution, q, k, v, block_q=4, block_k=3)


# ---------------------------------------------------------------------------- stability


def huge_scores(
    dtype: torch.dtype, how: str, device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q (2, 9, 4), k (2, 11, 4), v (2, 11, 3) on device whose scores are order-one numbers
    plus: 'positive': 1e4 everywhere; 'negative': -1e4 everywhere; 'rising': 0 for key 0,
    then 100 more for each later key; 'falling': 100 less for each later key."""
    gen = torch.Generator().manual_seed(7)
    q, k, v = randn(gen, 2, 9, 4), randn(gen, 2, 11, 4), randn(gen, 2, 11, 3)
    q[..., -1] = 200.0  # a score gains 200 * k[..., -1] / sqrt(4) = 100 * k[..., -1]
    step = torch.arange(11, dtype=torch.float64)
    k[..., -1] = {"positive": 100.0, "negative": -100.0, "rising": step, "falling": -step}[how]
    return tuple(t.to(device=device, dtype=dtype) for t in (q, k, v))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("how", ["positive", "negative", "rising", "falling"])
@pytest.mark.parametrize("device", DEVICES)
def test_huge_scores_give_finite_and_correct_results(solution, device, how, dtype):
    """exp(1e4) overflows and exp(-1e4) underflows in any dtype; scores rising by 100 per
    key move the running max a lot at every key block, so a stale max or sum shows."""
    q, k, v = huge_scores(dtype, how, device)
    for is_causal in (False, True):
        call = describe(q, k, v, is_causal, block_q=4, block_k=3)
        out = solution.flash_attention(q, k, v, is_causal=is_causal, block_q=4, block_k=3)
        assert torch.isfinite(out).all(), (
            f"{call} with {how} scores of size 1e4 gave inf or nan: exponentiate only scores "
            f"minus the running max, and rescale when the max changes"
        )
        # float32 rounds a score of 1e4 to about 1e-3, so the output can only be that close
        tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.float32 else {}
        check_against_torch(solution, q, k, v, is_causal, block_q=4, block_k=3, **tol)


# ---------------------------------------------------------------------------- dtypes, devices


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64],
    ids=["float16", "bfloat16", "float32", "float64"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_keeps_the_dtype_of_q(solution, device, dtype):
    q, k, v = qkv(8, (2,), L=20, S=18, device=device, dtype=dtype)
    for is_causal in (False, True):
        out = solution.flash_attention(q, k, v, is_causal=is_causal, block_q=8, block_k=5)
        assert out.dtype == dtype, (
            f"{describe(q, k, v, is_causal, 8, 5)} returned {out.dtype}; expected {dtype}"
        )
        check_against_torch(solution, q, k, v, is_causal, block_q=8, block_k=5)


@pytest.mark.parametrize("device", DEVICES)
def test_the_output_lives_on_the_device_of_q(solution, device):
    q, k, v = qkv(9, (2, 3), L=20, S=18, dtype=torch.float32)
    for is_causal in (False, True):
        q, k, v = (t.to(device) for t in (q, k, v))
        out = solution.flash_attention(q, k, v, is_causal=is_causal, block_q=8, block_k=5)
        call = describe(q, k, v, is_causal, 8, 5)
        assert out.device == q.device, f"{call} on {device} returned out on {out.device}"
        want = expected(q.cpu(), k.cpu(), v.cpu(), is_causal).float()
        tol = tolerance(torch.float32)
        assert_close(out.cpu(), want, msg=lambda m, call=call: f"{call}: out\n{m}", **tol)


# ---------------------------------------------------------------------------- what is computed


MATRIX_PRODUCTS = {"mm", "bmm", "addmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot"}
ELEMENTWISE_PRODUCTS = {"mul", "mul_"}


def _factors(args) -> tuple[torch.Tensor, torch.Tensor]:
    """The two multiplied operands of a matrix product: the last two tensor arguments
    (addmm and baddbmm take the added term first)."""
    tensors = [x for x in args if isinstance(x, torch.Tensor)]
    return tensors[-2], tensors[-1]


class Audit(TensorAudit):
    """A TensorAudit that also counts multiply_adds: mm/bmm/addmm/baddbmm and friends as
    rows x inner x columns, elementwise mul as the number of elements it writes (so a
    product written as broadcast-multiply-and-sum counts the same as a matmul)."""

    def __init__(self) -> None:
        super().__init__()
        self.multiply_adds = 0

    def seen(self, func, args, produced) -> None:
        name = func.overloadpacket.__name__
        if name in MATRIX_PRODUCTS:
            a, b = _factors(args)
            self.multiply_adds += a.numel() * (b.shape[-1] if b.ndim >= 2 else 1)
        elif name in ELEMENTWISE_PRODUCTS:
            self.multiply_adds += sum(t.numel() for t in produced)


def audited(solution, q, k, v, is_causal: bool, block_q: int, block_k: int) -> Audit:
    """Run the solution under an Audit, check its output, and return the Audit."""
    __tracebackhide__ = True
    audit = Audit()
    with audit:
        out = solution.flash_attention(
            q, k, v, is_causal=is_causal, block_q=block_q, block_k=block_k
        )
    call = describe(q, k, v, is_causal, block_q, block_k)
    assert_close(out, expected(q, k, v, is_causal), msg=lambda m: f"{call}: out is wrong\n{m}")
    return audit


def up_to_blocks(n: int, block: int) -> int:
    return math.ceil(n / block) * block


@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
def test_no_tensor_holds_more_than_a_score_tile_or_an_input_per_batch_and_head(solution, is_causal):
    """The bound, per (batch, head), is the largest of
    - one tile of scores: block_q x block_k = 16 x 12 = 192 elements;
    - an input or the output, with L and S rounded up to whole blocks (so that padding to
      whole blocks is allowed): 128 x max(E, Ev) = 512 and 108 x max(E, Ev) = 432.
    So no tensor may hold more than 512 elements per (batch, head), 6 x 512 = 3072 in all
    (a tensor without batch dims, such as a mask, counts whole). The full score matrix
    would hold 120 x 100 = 12000 per (batch, head); a strip of one query block against
    every key 16 x 100 = 1600; every query against one key block 120 x 12 = 1440."""
    batch, L, S, E, Ev, block_q, block_k = (2, 3), 120, 100, 4, 4, 16, 12
    q, k, v = qkv(10, batch, L, S, E, Ev)
    audit = audited(solution, q, k, v, is_causal, block_q, block_k)

    pairs = math.prod(batch)
    per_pair = max(
        block_q * block_k,
        up_to_blocks(L, block_q) * max(E, Ev),
        up_to_blocks(S, block_k) * max(E, Ev),
    )
    too_big = [(op, shape) for op, shape in audit.produced if math.prod(shape) > pairs * per_pair]
    assert not too_big, (
        f"{describe(q, k, v, is_causal, block_q, block_k)} made {len(too_big)} tensors larger "
        f"than allowed, first {too_big[0][0]} -> {too_big[0][1]}: at most "
        f"max(block_q * block_k, L or S rounded up to whole blocks * max(E, Ev)) = {per_pair} "
        f"elements per (batch, head), {pairs * per_pair} for the {pairs} (batch, head) pairs. "
        f"The full score matrix has {L * S} per pair: compute one block_q x block_k tile "
        f"of scores at a time, and keep only running statistics between tiles"
    )


# (L, S): every block is 8 x 8, E = Ev = 16, so the tiles' products dominate the work
SKIP_CASES = {"L=S": (96, 96), "L<S": (48, 96), "L>S": (96, 48)}


@pytest.mark.parametrize(("L", "S"), SKIP_CASES.values(), ids=SKIP_CASES.keys())
def test_causal_attention_skips_the_key_blocks_after_each_query_block(solution, L, S):
    """Counts the multiplications done (matrix products and elementwise products). Causal
    query i sees i + 1 keys (at most S), a fraction `visible` of all L x S pairs: 0.505
    for L = S = 96. A solution that never computes a tile lying wholly after the
    diagonal computes 78 of the 144 tiles when L = S = 96, 54% of the work; we allow
    `visible` + 0.1 of the non-causal work. Masking every tile without skipping any does
    100% or more."""
    block, E, Ev = 8, 16, 16
    q, k, v = qkv(11, (2,), L, S, E, Ev)
    full = audited(solution, q, k, v, False, block, block).multiply_adds
    causal = audited(solution, q, k, v, True, block, block).multiply_adds
    visible = sum(min(i + 1, S) for i in range(L)) / (L * S)
    call = describe(q, k, v, True, block, block)
    assert causal < full, (
        f"{call} did {causal} multiplications, no fewer than the {full} of is_causal=False: "
        f"skip the key blocks that start after the last query of the query block instead of "
        f"masking them"
    )
    assert causal <= (visible + 0.1) * full, (
        f"{call} did {causal} multiplications, {causal / full:.0%} of the {full} of "
        f"is_causal=False, though each query sees only {visible:.0%} of the keys: skip every "
        f"key block that starts after the last query of the query block"
    )


# ---------------------------------------------------------------------------- properties


@pytest.mark.parametrize("device", DEVICES)
def test_causal_outputs_ignore_future_keys_and_values(solution, device):
    q, k, v = qkv(12, (2,), L=10, S=10, device=device)
    out = solution.flash_attention(q, k, v, is_causal=True, block_q=3, block_k=4)
    gen = torch.Generator().manual_seed(13)
    for t in range(10):
        k2, v2 = k.clone(), v.clone()
        k2[:, t + 1 :] = randn(gen, 2, 9 - t, 4).to(device)
        v2[:, t + 1 :] = randn(gen, 2, 9 - t, 6).to(device)
        out2 = solution.flash_attention(q, k2, v2, is_causal=True, block_q=3, block_k=4)
        assert_close(
            out2[:, : t + 1],
            out[:, : t + 1],
            msg=lambda m, t=t: (
                f"causal flash_attention(block_q=3, block_k=4): changing keys and values "
                f"after position {t} changed the outputs of queries 0..{t}\n{m}"
            ),
        )


def test_the_inputs_are_left_unchanged(solution):
    q, k, v = qkv(14, (2,), L=9, S=7)
    before = [t.clone() for t in (q, k, v)]
    solution.flash_attention(q, k, v, is_causal=True, block_q=2, block_k=3)
    for name, now, then in zip("qkv", (q, k, v), before, strict=True):
        assert torch.equal(now, then), f"flash_attention modified its input {name}"


def layout(seed: int, shape: tuple[int, ...], how: str, device: str = "cpu") -> torch.Tensor:
    """A float64 tensor of the shape on device, laid out as asked: contiguous, a transposed
    view of its last two dims, or every other element of a wider tensor (the view is taken
    on the device, where moving a strided tensor would make it contiguous)."""
    gen = torch.Generator().manual_seed(seed)
    *batch, rows, cols = shape
    if how == "transposed":
        return randn(gen, *batch, cols, rows).to(device).transpose(-1, -2)
    if how == "strided":
        return randn(gen, *batch, rows, 2 * cols).to(device)[..., ::2]
    return randn(gen, *shape).to(device)


@st.composite
def attention_cases(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    L, S = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    E, Ev = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    layouts = st.sampled_from(["contiguous", "transposed", "strided"])
    return {
        "q": (*batch, L, E),
        "k": (*batch, S, E),
        "v": (*batch, S, Ev),
        "layouts": [draw(layouts) for _ in range(3)],
        "is_causal": draw(st.booleans()),
        "block_q": draw(st.integers(1, 14)),
        "block_k": draw(st.integers(1, 14)),
        "seed": draw(st.integers(0, 2**16)),
    }


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=30)
@given(case=attention_cases())
def test_drawn_shapes_blocks_and_memory_layouts_match_torch(solution, device, case):
    seed = case["seed"]
    q, k, v = (
        layout(seed + i, case[name], how, device)
        for i, (name, how) in enumerate(zip("qkv", case["layouts"], strict=True))
    )
    check_against_torch(solution, q, k, v, case["is_causal"], case["block_q"], case["block_k"])


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
    ("block_q", "block_k", "named"),
    [(0, 4, "block_q"), (-1, 4, "block_q"), (4, 0, "block_k"), (4, -2, "block_k")],
    ids=["block_q=0", "block_q=-1", "block_k=0", "block_k=-2"],
)
def test_a_block_size_below_one_raises_a_value_error_naming_it(solution, block_q, block_k, named):
    q, k, v = qkv(15, (2,), L=5, S=6)
    call = describe(q, k, v, block_q=block_q, block_k=block_k)
    exc = raised_by(lambda: solution.flash_attention(q, k, v, block_q=block_q, block_k=block_k))
    assert exc is not None, f"{call} returned a result; expected ValueError ({named} < 1)"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError ({named} < 1)"
    )
    assert named in str(exc), (
        f"{call} raised ValueError({str(exc)!r}); the message should name {named}"
    )


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
    gen = torch.Generator().manual_seed(16)
    q, k, v = randn(gen, *q_shape), randn(gen, *k_shape), randn(gen, *v_shape)
    call = describe(q, k, v)
    exc = raised_by(lambda: solution.flash_attention(q, k, v))
    assert exc is not None, f"{call} returned a result; expected ValueError ({what})"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError ({what})"
    )
    assert all(size in str(exc) for size in sizes), (
        f"{call} raised ValueError({str(exc)!r}); the message should name the sizes "
        f"{' and '.join(sizes)} ({what})"
    )
