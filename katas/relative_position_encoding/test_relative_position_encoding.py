"""Tests for the relative_position_encoding kata: Shaw et al.'s clipped table and T5's
buckets.

The oracles are written out below in plain Python: a double loop over (query, key) for the
table lookup and its gradient, and a transcription of T5's bucket formula (as in the paper's
Mesh TensorFlow code and Hugging Face's T5) in float64, one relative position at a time.
Every draw is seeded.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def loaded(solution, num_units: int, max_rel: int, seed: int, dtype=torch.float64, device="cpu"):
    """RelativePosition(num_units, max_rel) moved to dtype and device, its table overwritten
    with seeded N(0, 1) draws; returns (module, the table in float64 on the CPU)."""
    module = solution.RelativePosition(num_units, max_rel).to(device=device, dtype=dtype)
    check_table_shape(module, num_units, max_rel)
    gen = torch.Generator().manual_seed(seed)
    values = torch.randn(2 * max_rel + 1, num_units, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        module.embeddings_table.copy_(values)
    return module, module.embeddings_table.detach().cpu().double()


def check_table_shape(module, num_units: int, max_rel: int) -> None:
    __tracebackhide__ = True
    shape = tuple(module.embeddings_table.shape)
    want = (2 * max_rel + 1, num_units)
    assert shape == want, (
        f"RelativePosition({num_units}, {max_rel}).embeddings_table has shape {shape}; "
        f"expected {want}: 2·max_relative_position + 1 rows, one per distance -max..max"
    )


def row_of(i: int, j: int, max_rel: int) -> int:
    """The table row for query i and key j: the key-minus-query distance, clipped, shifted."""
    return min(max(j - i, -max_rel), max_rel) + max_rel


def looked_up(table: torch.Tensor, length_q: int, length_k: int, max_rel: int) -> torch.Tensor:
    """out[i, j] = table[row_of(i, j)], by a double loop."""
    out = torch.empty(length_q, length_k, table.shape[1], dtype=table.dtype)
    for i in range(length_q):
        for j in range(length_k):
            out[i, j] = table[row_of(i, j, max_rel)]
    return out


def t5_buckets(rel: int, bidirectional: bool, num_buckets: int, max_distance: int) -> set[int]:
    """The buckets T5's formula allows for one relative position (memory - query): one,
    or two where the log term lands on an integer and float rounding may go either way."""
    offset = 0
    if bidirectional:
        num_buckets //= 2
        offset = num_buckets if rel > 0 else 0
        distance = abs(rel)
    else:
        distance = max(-rel, 0)
    max_exact = num_buckets // 2
    if distance < max_exact:
        return {offset + distance}
    scaled = (
        math.log(distance / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    )
    steps = {math.floor(scaled)}
    if abs(scaled - round(scaled)) < 1e-6:
        steps = {round(scaled) - 1, round(scaled)}
    return {offset + min(max_exact + s, num_buckets - 1) for s in steps}


def check_buckets(
    solution, rel: torch.Tensor, bidirectional=True, num_buckets=32, max_distance=128
):
    """Call the solution on rel and compare every element with t5_buckets."""
    __tracebackhide__ = True
    call = (
        f"relative_position_bucket(<{tuple(rel.shape)} relative positions>, bidirectional="
        f"{bidirectional}, num_buckets={num_buckets}, max_distance={max_distance})"
    )
    got = solution.relative_position_bucket(
        rel, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance
    )
    assert isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}, not a Tensor"
    assert got.shape == rel.shape and got.dtype == torch.int64 and got.device == rel.device, (
        f"{call} returned {got.dtype} {tuple(got.shape)} on {got.device}; expected int64 "
        f"{tuple(rel.shape)} on {rel.device}"
    )
    for r, b in zip(rel.flatten().tolist(), got.flatten().tolist(), strict=True):
        allowed = t5_buckets(r, bidirectional, num_buckets, max_distance)
        assert b in allowed, (
            f"{call}: relative position {r} (memory - query) got bucket {b}; expected "
            f"{' or '.join(map(str, sorted(allowed)))}"
        )
    return got


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    module = solution.RelativePosition(2, 2)
    check_table_shape(module, 2, 2)
    with torch.no_grad():
        module.embeddings_table.copy_(torch.tensor([[0.0, 0], [1, 10], [2, 20], [3, 30], [4, 40]]))
    out = module(4, 3)
    rows = torch.tensor([[2, 3, 4], [1, 2, 3], [0, 1, 2], [0, 0, 1]])
    assert_close(
        out.detach(),
        torch.stack([rows, 10 * rows], dim=-1).float(),
        msg=lambda m: (
            "RelativePosition(2, 2)(4, 3) with table row r = [r, 10r]: expected "
            f"rows {rows.tolist()} (clip(j - i, -2, 2) + 2)\n{m}"
        ),
    )

    rel = torch.tensor([-200, -20, -9, -1, 0, 1, 9, 20, 200])
    got = solution.relative_position_bucket(rel)
    want = [15, 10, 8, 1, 0, 17, 24, 26, 31]
    assert got.tolist() == want, (
        f"relative_position_bucket({rel.tolist()}) gave {got.tolist()}; expected {want}"
    )
    got = solution.relative_position_bucket(rel, bidirectional=False)
    want = [31, 17, 9, 1, 0, 0, 0, 0, 0]
    assert got.tolist() == want, (
        f"relative_position_bucket({rel.tolist()}, bidirectional=False) gave {got.tolist()}; "
        f"expected {want}"
    )


# ---------------------------------------------------------------------------- Shaw's table


@pytest.mark.parametrize(("num_units", "max_rel"), [(8, 3), (5, 0), (1, 16)])
def test_the_table_is_a_parameter_with_one_row_per_clipped_distance(solution, num_units, max_rel):
    module = solution.RelativePosition(num_units, max_rel)
    call = f"RelativePosition({num_units}, {max_rel})"
    params = {name: tuple(p.shape) for name, p in module.named_parameters()}
    want = (2 * max_rel + 1, num_units)
    assert params == {"embeddings_table": want}, (
        f"{call} has parameters {params}; expected exactly embeddings_table {want} "
        "(2·max_relative_position + 1 rows, for distances -max..max)"
    )
    assert list(module.state_dict()) == ["embeddings_table"], (
        f"{call}.state_dict() has keys {list(module.state_dict())}; expected ['embeddings_table']"
    )
    table = module.embeddings_table
    assert table.dtype == torch.float32 and table.requires_grad and table.isfinite().all(), (
        f"{call}.embeddings_table should be a finite float32 parameter that requires grad"
    )


LOOKUP_CASES = {
    "more-queries-than-keys": (7, 3, 2),
    "square": (5, 5, 2),
    "more-keys-than-queries": (3, 8, 3),
    "one-by-one": (1, 1, 4),
    "max-beyond-the-lengths": (6, 6, 10),
    "max-zero": (4, 5, 0),
    "max-one": (6, 4, 1),
}


@pytest.mark.parametrize("case", LOOKUP_CASES.values(), ids=LOOKUP_CASES.keys())
def test_each_entry_is_the_table_row_of_the_clipped_key_minus_query_distance(solution, case):
    length_q, length_k, max_rel = case
    module, table = loaded(solution, 3, max_rel, seed=1)
    assert_close(
        module(length_q, length_k),
        looked_up(table, length_q, length_k, max_rel),
        msg=lambda m: (
            f"RelativePosition(3, {max_rel})({length_q}, {length_k}): out[i, j] "
            f"should be embeddings_table[clip(j - i, -{max_rel}, {max_rel}) + {max_rel}]\n{m}"
        ),
    )


def test_distances_beyond_the_maximum_share_the_edge_rows(solution):
    module, table = loaded(solution, 4, 2, seed=2)
    out = module(9, 9).detach().cpu()
    call = "RelativePosition(4, 2)(9, 9)"
    for i in range(9):
        for j in range(9):
            if j - i <= -2:
                want, what = table[0], "row 0 (key 2 or more before the query)"
            elif j - i >= 2:
                want, what = table[4], "row 4 (key 2 or more after the query)"
            elif j == i:
                want, what = table[2], "the middle row 2 (the query's own position)"
            else:
                continue
            assert torch.equal(out[i, j], want), f"{call}: entry [{i}, {j}] should be {what}"


@settings(max_examples=30)
@given(
    length_q=st.integers(1, 12),
    length_k=st.integers(1, 12),
    max_rel=st.integers(0, 8),
    num_units=st.integers(1, 5),
)
def test_drawn_lengths_and_maxima_match_the_loops(solution, length_q, length_k, max_rel, num_units):
    module, table = loaded(solution, num_units, max_rel, seed=3)
    assert_close(
        module(length_q, length_k),
        looked_up(table, length_q, length_k, max_rel),
        msg=lambda m: f"RelativePosition({num_units}, {max_rel})({length_q}, {length_k})\n{m}",
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_has_the_dtype_and_device_of_the_table(solution, device, dtype):
    module, table = loaded(solution, 6, 3, seed=4, dtype=dtype, device=device)
    assert_close(
        module(5, 7),
        looked_up(table, 5, 7, 3).to(device=device, dtype=dtype),
        msg=lambda m: f"RelativePosition(6, 3) moved to {device} as {dtype}, called (5, 7)\n{m}",
    )


@pytest.mark.parametrize(("length_q", "length_k", "max_rel"), [(3, 3, 5), (4, 9, 3), (8, 2, 2)])
@pytest.mark.parametrize("device", DEVICES)
def test_the_gradient_reaches_each_row_from_the_entries_that_use_it(
    solution, device, length_q, length_k, max_rel
):
    module, _ = loaded(solution, 4, max_rel, seed=5, device=device)
    gen = torch.Generator().manual_seed(6)
    upstream = torch.randn(length_q, length_k, 4, generator=gen, dtype=torch.float64)
    want = torch.zeros(2 * max_rel + 1, 4, dtype=torch.float64)
    for i in range(length_q):
        for j in range(length_k):
            want[row_of(i, j, max_rel)] += upstream[i, j]
    call = f"RelativePosition(4, {max_rel})({length_q}, {length_k})"
    out = module(length_q, length_k)
    (grad,) = torch.autograd.grad(
        (out * upstream.to(device)).sum(), [module.embeddings_table], allow_unused=True
    )
    assert grad is not None, f"{call}: no gradient reached embeddings_table"
    assert_close(
        grad.cpu(),
        want,
        msg=lambda m: (
            f"{call}: each row's gradient should be the sum of the upstream "
            f"gradients of the entries that use it, and zero for unused rows\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- T5 buckets


RANGE = torch.arange(-300, 301)

BUCKET_CASES = {
    "defaults": (True, 32, 128),
    "causal-defaults": (False, 32, 128),
    "8-buckets": (True, 8, 20),
    "causal-8-buckets": (False, 8, 20),
    "odd-count": (True, 10, 64),
    "64-buckets-far": (True, 64, 1000),
    "causal-16-buckets": (False, 16, 50),
    "4-buckets": (True, 4, 16),
}


@pytest.mark.parametrize("case", BUCKET_CASES.values(), ids=BUCKET_CASES.keys())
def test_buckets_match_t5s_formula(solution, case):
    bidirectional, num_buckets, max_distance = case
    check_buckets(solution, RANGE, bidirectional, num_buckets, max_distance)


def test_the_defaults_are_bidirectional_32_buckets_up_to_128(solution):
    got = solution.relative_position_bucket(RANGE)
    want = solution.relative_position_bucket(
        RANGE, bidirectional=True, num_buckets=32, max_distance=128
    )
    assert torch.equal(got, want), (
        "relative_position_bucket(rel) should equal the call with "
        "bidirectional=True, num_buckets=32, max_distance=128"
    )
    check_buckets(solution, RANGE)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_small_distances_get_a_bucket_each(solution, bidirectional):
    rel = torch.arange(-7, 8)
    got = solution.relative_position_bucket(rel, bidirectional=bidirectional).tolist()
    if bidirectional:
        want = [7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23]
        rule = "distance d before the query -> bucket d, d after it -> bucket 16 + d"
    else:
        want = [7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        rule = "distance d before the query -> bucket d, every key after it -> bucket 0"
    assert got == want, (
        f"relative_position_bucket({rel.tolist()}, bidirectional={bidirectional}) gave {got}; "
        f"expected {want} ({rule})"
    )


def test_keys_after_the_query_use_the_upper_half_when_bidirectional(solution):
    """relative_position = memory_position - query_position, as T5 builds it."""
    query = torch.arange(6)[:, None]
    memory = torch.arange(6)[None, :]
    got = solution.relative_position_bucket(memory - query, num_buckets=8, max_distance=16)
    after = memory > query
    assert (got[after] >= 4).all() and (got[~after] < 4).all(), (
        "relative_position_bucket(memory - query, num_buckets=8, max_distance=16): keys "
        f"after the query need buckets 4..7 and the others 0..3; got\n{got}"
    )


@pytest.mark.parametrize("case", BUCKET_CASES.values(), ids=BUCKET_CASES.keys())
def test_distances_from_max_distance_on_share_the_last_bucket(solution, case):
    bidirectional, num_buckets, max_distance = case
    far = torch.tensor([max_distance, max_distance + 1, 5 * max_distance, 10**6])
    call = (
        f"relative_position_bucket(rel, bidirectional={bidirectional}, "
        f"num_buckets={num_buckets}, max_distance={max_distance})"
    )
    half = num_buckets // 2 if bidirectional else num_buckets
    got = solution.relative_position_bucket(-far, bidirectional, num_buckets, max_distance)
    assert (got == half - 1).all(), (
        f"{call} for rel = {(-far).tolist()} gave {got.tolist()}; expected {half - 1} each"
    )
    got = solution.relative_position_bucket(far, bidirectional, num_buckets, max_distance)
    want = 2 * half - 1 if bidirectional else 0
    assert (got == want).all(), (
        f"{call} for rel = {far.tolist()} gave {got.tolist()}; expected {want} each"
    )


@pytest.mark.parametrize("case", BUCKET_CASES.values(), ids=BUCKET_CASES.keys())
def test_buckets_never_decrease_as_the_distance_grows(solution, case):
    bidirectional, num_buckets, max_distance = case
    distance = torch.arange(0, 2 * max_distance + 2)
    call = (
        f"relative_position_bucket(rel, bidirectional={bidirectional}, "
        f"num_buckets={num_buckets}, max_distance={max_distance})"
    )
    for sign, side in ((-1, "before"), (1, "after")):
        got = solution.relative_position_bucket(
            sign * distance, bidirectional, num_buckets, max_distance
        )
        steps = got[1:] - got[:-1]
        assert (steps >= 0).all(), (
            f"{call}: keys {side} the query at distances 0, 1, 2, ... got buckets "
            f"{got.tolist()}, which go down somewhere"
        )


def test_with_the_defaults_every_bucket_but_16_is_used(solution):
    """Bucket 16 would be "distance 0, key after the query": distance 0 goes to bucket 0."""
    used = set(solution.relative_position_bucket(torch.arange(-200, 201)).tolist())
    want = set(range(32)) - {16}
    assert used == want, (
        f"relative_position_bucket(-200..200) used buckets {sorted(used)}; expected 0..31 "
        "except 16 (keys after the query start at distance 1, bucket 17)"
    )


@settings(max_examples=30)
@given(
    bidirectional=st.booleans(),
    per_direction=st.integers(2, 40),
    extra=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
def test_drawn_bucket_counts_and_distances_match_t5s_formula(
    solution, bidirectional, per_direction, extra, seed
):
    num_buckets = 2 * per_direction if bidirectional else per_direction
    max_distance = per_direction // 2 + extra
    gen = torch.Generator().manual_seed(seed)
    rel = torch.randint(-3 * max_distance, 3 * max_distance + 1, (40,), generator=gen)
    check_buckets(solution, rel, bidirectional, num_buckets, max_distance)


@pytest.mark.parametrize("device", DEVICES)
def test_buckets_keep_the_shape_and_device_of_the_input(solution, device):
    gen = torch.Generator().manual_seed(7)
    rel = torch.randint(-150, 151, (3, 4, 5), generator=gen).to(device)
    check_buckets(solution, rel)
    check_buckets(solution, rel[:, 1:3].transpose(0, 2), bidirectional=False)


def test_the_relative_positions_are_left_unchanged(solution):
    rel = torch.arange(-40, 41)
    before = rel.clone()
    solution.relative_position_bucket(rel)
    solution.relative_position_bucket(rel, bidirectional=False)
    assert torch.equal(rel, before), "relative_position_bucket modified its input"
