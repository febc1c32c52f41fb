"""Tests for the top_p_sampling kata: nucleus masks at the boundary, temperature order, draws.

top_p_filter is checked exactly against masks worked out by hand (just inside and just
outside the boundary) and against a loop over each row's probabilities in float64; every
case keeps its running sums at least 1e-4 away from p, since a sum exactly equal to p is
unspecified. The sampler is judged by the distribution of its draws, never by the draws
themselves: tens of thousands of tokens drawn at once (logits of shape (G, n, V)) from a
seeded generator, then Pearson's chi-square test against the renormalised nucleus in
float64, failing below p-value 1e-6 (a right sampler fails it once in a million seeds; the
seeds are fixed, so the verdict is deterministic).
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, assert_draws_follow

INF = float("inf")
MARGIN = 1e-4  # how far every running sum of a test case stays from p
DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


# ---------------------------------------------------------------------------- helpers

OUTSIDE = "which is outside the nucleus"  # how a draw that should be impossible is named


def softmax64(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """softmax(logits / T) in float64, written out, on the CPU (-inf entries give 0)."""
    x = logits.detach().cpu().to(torch.float64) / temperature
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def nucleus(logits: torch.Tensor, p: float) -> tuple[torch.Tensor, float]:
    """The oracle, row by row in float64: (kept (..., V) bool, margin). A token is kept when
    the probability of the tokens ranked above it is below p, and the most probable token
    always is. margin is the smallest distance between p and such a running sum, over every
    token of positive probability but each row's first: the tests use only cases where it
    is at least MARGIN, so float rounding cannot decide them."""
    probs = softmax64(logits).reshape(-1, logits.shape[-1])
    kept = torch.zeros(probs.shape, dtype=torch.bool)
    margin = INF
    for i, row in enumerate(probs.tolist()):
        ranked = sorted(range(len(row)), key=lambda j: -row[j])
        above = 0.0
        for rank, j in enumerate(ranked):
            if rank > 0 and row[j] > 0:
                margin = min(margin, abs(above - p))
            kept[i, j] = rank == 0 or above < p
            above += row[j]
    return kept.reshape(logits.shape), margin


def expected_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    __tracebackhide__ = True
    kept, margin = nucleus(logits, p)
    assert margin >= MARGIN, f"test bug: a running sum lies within {margin:.2g} of p = {p}"
    return logits.masked_fill(~kept.to(logits.device), -INF)


def seeded(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def randn(seed: int, *shape: int, scale: float = 1.5) -> torch.Tensor:
    return scale * torch.randn(shape, generator=seeded(seed), dtype=torch.float64)


def log_probs(probs: list[float]) -> list[float]:
    return [math.log(q) if q > 0 else -INF for q in probs]


def shown(logits: torch.Tensor) -> str:
    kind = "" if logits.is_contiguous() else "non-contiguous "
    dtype = str(logits.dtype).removeprefix("torch.")
    if logits.numel() <= 8:
        rounded = [round(x, 4) for x in logits.flatten().tolist()]
        return f"{dtype} {tuple(logits.shape)} {rounded}"
    return f"logits {kind}{dtype} {tuple(logits.shape)} on {logits.device.type}"


def repeat_rows(rows: torch.Tensor, n: int) -> torch.Tensor:
    """(G, V) -> (G, n, V): each of the G distributions n times, contiguous, so that one
    call draws n tokens from each."""
    return rows[:, None, :].expand(rows.shape[0], n, rows.shape[1]).contiguous()


def nucleus_probs(rows: torch.Tensor, p: float, temperature: float = 1.0) -> torch.Tensor:
    """(G, V) float64: the distribution top_p_sample(rows, p, temperature) must draw from."""
    return softmax64(expected_filter(rows.to(torch.float64) / temperature, p))


def filtered(solution, logits: torch.Tensor, p: float) -> torch.Tensor:
    """solution.top_p_filter(logits, p), checked to leave logits unchanged, with any error
    but NotImplementedError turned into a test failure that names the call."""
    __tracebackhide__ = True
    call = f"top_p_filter({shown(logits)}, p={p})"
    before = logits.clone()
    try:
        got = solution.top_p_filter(logits, p)
    except NotImplementedError:
        raise
    except Exception as exc:  # a crash on a legitimate input is a wrong answer here
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}")
    assert torch.equal(logits, before), f"{call} changed its input logits in place"
    return got


def kept_ids(filtered_logits: torch.Tensor) -> object:
    """The ids of the finite logits: a list for one row, a list of lists for a few rows."""
    if filtered_logits.numel() > 64:
        return "..."
    rows = torch.isfinite(filtered_logits.cpu()).reshape(-1, filtered_logits.shape[-1])
    ids = [row.nonzero().flatten().tolist() for row in rows]
    return ids[0] if filtered_logits.ndim == 1 else ids


def assert_filter_keeps(solution, logits: torch.Tensor, p: float, want: torch.Tensor) -> None:
    """top_p_filter(logits, p) must equal want: the kept logits bit for bit, -inf elsewhere."""
    __tracebackhide__ = True
    call = f"top_p_filter({shown(logits)}, p={p})"
    got = filtered(solution, logits, p)
    assert isinstance(got, torch.Tensor), f"{call} returned {type(got).__name__}"
    kept, got_kept = kept_ids(want), kept_ids(got) if got.shape == want.shape else "?"
    assert_close(
        got,
        want,
        rtol=0,
        atol=0,
        msg=lambda m: (
            f"{call} kept tokens {got_kept}; expected {kept} (the smallest set of most "
            f"probable tokens reaching p, the token that crosses p included; kept logits "
            f"unchanged, the rest -inf)\n{m}"
        ),
    )


def assert_value_error(call: str, run) -> None:
    """run() must raise ValueError; any other outcome fails the test with a sentence."""
    __tracebackhide__ = True
    try:
        run()
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}; expected ValueError")
    pytest.fail(f"{call} returned a result; expected ValueError")


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_results_it_shows(solution):
    logits = torch.tensor(log_probs([0.2, 0.5, 0.3]))
    l0, l1, l2 = logits.tolist()
    shown_masks = {
        0.45: [-INF, l1, -INF],
        0.79: [-INF, l1, l2],
        0.81: [l0, l1, l2],
        0.0: [-INF, l1, -INF],
        1.0: [l0, l1, l2],
    }
    for p, want in shown_masks.items():
        assert_filter_keeps(solution, logits, p, torch.tensor(want))

    many = logits.expand(20_000, 3).contiguous()
    tokens = solution.top_p_sample(many, 0.79, generator=seeded(0))
    call = "top_p_sample(log [0.2, 0.5, 0.3] repeated 20000 times, p=0.79, generator=seeded)"
    want = torch.tensor([[0.0, 0.625, 0.375]], dtype=torch.float64)
    assert_draws_follow(tokens[None], want, call, OUTSIDE)

    tokens = solution.top_p_sample(many, 0.79, temperature=2.0, generator=seeded(1))
    call = call.replace("p=0.79", "p=0.79, temperature=2.0")
    want = torch.tensor([[0.2628, 0.4154, 0.3218]], dtype=torch.float64)
    assert_close(nucleus_probs(logits[None], 0.79, 2.0), want, rtol=0, atol=5e-5)
    assert_draws_follow(tokens[None], nucleus_probs(logits[None], 0.79, 2.0), call, OUTSIDE)


# ---------------------------------------------------------------------------- the filter


BOUNDARY = {
    "crossing-token-kept-0.79": ([0.5, 0.3, 0.2], 0.79, [0, 1]),
    "just-past-two-tokens-0.81": ([0.5, 0.3, 0.2], 0.81, [0, 1, 2]),
    "first-token-crosses-0.49": ([0.5, 0.3, 0.2], 0.49, [0]),
    "just-past-the-first-0.51": ([0.5, 0.3, 0.2], 0.51, [0, 1]),
    "unsorted-0.6": ([0.1, 0.4, 0.05, 0.25, 0.2], 0.6, [1, 3]),
    "unsorted-0.7": ([0.1, 0.4, 0.05, 0.25, 0.2], 0.7, [1, 3, 4]),
    "unsorted-0.9": ([0.1, 0.4, 0.05, 0.25, 0.2], 0.9, [0, 1, 3, 4]),
    "unsorted-0.97": ([0.1, 0.4, 0.05, 0.25, 0.2], 0.97, [0, 1, 2, 3, 4]),
    "dominant-token": ([0.01, 0.02, 0.95, 0.02], 0.9, [2]),
    "masked-tokens-p=1": ([0.6, 0.0, 0.4, 0.0], 1.0, [0, 2]),
    "masked-tokens-0.8": ([0.0, 0.3, 0.0, 0.7], 0.8, [1, 3]),
    "V=1": ([1.0], 0.5, [0]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("probs", "p", "kept"), BOUNDARY.values(), ids=BOUNDARY.keys())
def test_the_nucleus_keeps_the_token_that_crosses_p_and_no_more(solution, device, probs, p, kept):
    logits = torch.tensor(log_probs(probs), device=device)
    want = torch.full_like(logits, -INF)
    want[kept] = logits[kept]
    assert_filter_keeps(solution, logits, p, want)


@pytest.mark.parametrize("p", [0.0, 1e-9, 1e-3], ids=["p=0", "p=1e-9", "p=1e-3"])
def test_a_tiny_p_keeps_only_the_argmax(solution, p):
    logits = randn(1, 3, 8).float()  # the largest probability is well above 1e-3
    want = logits.masked_fill(logits < logits.amax(dim=-1, keepdim=True), -INF)
    assert_filter_keeps(solution, logits, p, want)


def test_a_tiny_p_keeps_only_the_argmax_of_a_flat_distribution(solution):
    logits = torch.tensor([0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])  # the max is 0.13
    want = torch.full_like(logits, -INF)
    want[7] = logits[7]
    for p in (0.0, 1e-6, 0.1):
        assert_filter_keeps(solution, logits, p, want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_p_1_keeps_every_token(solution, dtype):
    logits = randn(2, 4, 50).to(dtype)  # no probability is anywhere near underflow
    assert_filter_keeps(solution, logits, 1.0, logits.clone())


@pytest.mark.parametrize("device", DEVICES)
def test_each_row_of_a_batch_has_its_own_nucleus(solution, device):
    rows = [
        [[0.05, 0.6, 0.1, 0.15, 0.1], [0.12, 0.18, 0.3, 0.16, 0.24]],
        [[0.9, 0.025, 0.025, 0.025, 0.025], [0.1, 0.1, 0.35, 0.1, 0.35]],
        [[0.3, 0.25, 0.2, 0.15, 0.1], [0.0, 0.22, 0.26, 0.28, 0.24]],
    ]  # (3, 2, 5): with p = 0.62 the nuclei hold 2, 3, 1, 2, 3 and 3 tokens
    logits = torch.tensor([[log_probs(r) for r in pair] for pair in rows], device=device)
    want = torch.full_like(logits, -INF)
    kept = {
        (0, 0): [1, 3],
        (0, 1): [1, 2, 4],
        (1, 0): [0],
        (1, 1): [2, 4],
        (2, 0): [0, 1, 2],
        (2, 1): [2, 3, 4],
    }
    for (i, j), tokens in kept.items():
        want[i, j, tokens] = logits[i, j, tokens]
    assert_filter_keeps(solution, logits, 0.62, want)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_the_filter_keeps_the_dtype_and_the_kept_logits_bit_for_bit(solution, dtype):
    probs = [[0.05, 0.45, 0.15, 0.35], [0.3, 0.1, 0.45, 0.15]]  # p = 0.7: margins of 0.05
    logits = torch.tensor([log_probs(r) for r in probs]).to(dtype)
    want = logits.clone()
    want[0, [0, 2]] = -INF
    want[1, [1, 3]] = -INF
    assert torch.equal(want, expected_filter(logits, 0.7))
    assert_filter_keeps(solution, logits, 0.7, want)


@st.composite
def logits_and_p(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    V = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**16))
    rows = 1
    for n in batch:
        rows *= n
    gen = seeded(seed)
    # each row a different draw of V distinct values 0.3 apart: no two tokens tie
    picks = torch.stack([torch.randperm(25, generator=gen)[:V] for _ in range(rows)])
    logits = (0.3 * picks.double() - 3.6).reshape(*batch, V)
    if V > 1 and draw(st.booleans()):  # mask some tokens, never a row's largest
        masked = torch.rand(logits.shape, generator=gen, dtype=torch.float64) < 0.3
        masked &= logits < logits.amax(dim=-1, keepdim=True)
        logits = logits.masked_fill(masked, -INF)
    p = draw(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0])))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    return logits.to(dtype), p


@settings(max_examples=40)
@given(case=logits_and_p())
def test_drawn_shapes_and_ps_match_a_loop_over_ranked_probabilities(solution, case):
    logits, p = case
    assume(nucleus(logits, p)[1] >= MARGIN)
    assert_filter_keeps(solution, logits, p, expected_filter(logits, p))


def test_the_logits_are_left_unchanged(solution):
    logits = randn(3, 50, 7).float()
    logits[0, 3] = -INF
    before = logits.clone()
    filtered(solution, logits, 0.6)
    for temperature in (0.0, 0.5, 2.0):
        solution.top_p_sample(logits, 0.6, temperature, generator=seeded(4))
        assert torch.equal(logits, before), (
            f"top_p_sample(logits, p=0.6, temperature={temperature}) changed logits"
        )


# ---------------------------------------------------------------------------- draws


@pytest.mark.parametrize("temperature", [0.7, 1.0, 1.8])
def test_draws_follow_the_renormalised_nucleus(solution, temperature):
    rows = randn(5, 3, 10)  # three different distributions, 7_000 draws from each
    logits = repeat_rows(rows, 7_000).float()
    call = f"top_p_sample({shown(logits)}, p=0.8, temperature={temperature}, generator=seeded)"
    tokens = solution.top_p_sample(logits, 0.8, temperature, generator=seeded(6))
    assert_draws_follow(tokens, nucleus_probs(rows.float(), 0.8, temperature), call, OUTSIDE)


TEMPERATURE_FIRST = {
    # log [0.2, 0.5, 0.3]: at T = 1, p = 0.79 keeps tokens 1, 2 and p = 0.6 keeps 1, 2 too
    "hot-widens": (2.0, 0.79, [0.2628, 0.4154, 0.3218]),  # nucleus of T = 2: all three
    "cold-narrows": (0.5, 0.6, [0.0, 1.0, 0.0]),  # nucleus of T = 0.5: token 1 (0.658) only
}


@pytest.mark.parametrize(
    ("temperature", "p", "want"), TEMPERATURE_FIRST.values(), ids=TEMPERATURE_FIRST.keys()
)
def test_the_temperature_is_applied_before_the_nucleus_is_chosen(solution, temperature, p, want):
    rows = torch.tensor([log_probs([0.2, 0.5, 0.3])])
    logits = repeat_rows(rows, 10_000)
    call = (
        f"top_p_sample(log [0.2, 0.5, 0.3] repeated 10000 times, p={p}, "
        f"temperature={temperature}, generator=seeded)"
    )
    tokens = solution.top_p_sample(logits, p, temperature, generator=seeded(7))
    expected = nucleus_probs(rows, p, temperature)
    assert_close(expected, torch.tensor([want], dtype=torch.float64), rtol=0, atol=5e-5)
    assert_draws_follow(tokens, expected, call, OUTSIDE)


def test_with_p_1_draws_follow_the_full_softmax(solution):
    rows = randn(8, 2, 6)
    logits = repeat_rows(rows, 8_000)
    call = f"top_p_sample({shown(logits)}, p=1.0, temperature=0.8, generator=seeded)"
    tokens = solution.top_p_sample(logits, 1.0, 0.8, generator=seeded(9))
    assert_draws_follow(tokens, softmax64(rows, 0.8), call, OUTSIDE)


def test_with_a_tiny_p_every_draw_is_the_argmax(solution):
    rows = torch.stack([torch.randperm(9, generator=seeded(11 + g)) for g in range(3)]) / 4
    logits = repeat_rows(rows, 1_000)
    tokens = solution.top_p_sample(logits, 1e-6, 3.0, generator=seeded(14))
    want = rows.argmax(dim=-1)[:, None].expand(3, 1_000)
    assert torch.equal(tokens, want), (
        f"top_p_sample({shown(logits)}, p=1e-6, temperature=3.0) drew "
        f"{tokens.unique().tolist()}; expected only each row's argmax "
        f"{rows.argmax(dim=-1).tolist()}"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_zero_temperature_returns_the_argmax(solution, device):
    logits = torch.tensor([[0.5, 3.0, -1.0, 2.0], [4.0, -INF, 4.0, 1.0], [1.0, 2.0, 3.0, 3.0]])
    logits = logits.to(device)
    tokens = solution.top_p_sample(logits, 0.9, 0.0, generator=seeded(15, device))
    want = torch.tensor([1, 0, 2], device=device)
    assert_close(
        tokens,
        want,
        msg=lambda m: (
            f"top_p_sample({shown(logits)}, p=0.9, temperature=0.0): expected each row's "
            f"argmax, the lowest index among tied maxima\n{m}"
        ),
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "batch", [(), (5,), (2, 3), (2, 1, 3)], ids=["no-batch", "N", "B-L", "three-dims"]
)
def test_draws_have_the_leading_shape_of_the_logits_and_dtype_int64(solution, device, batch):
    logits = randn(16, *batch, 11).float().to(device)
    call = f"top_p_sample({shown(logits)}, p=0.5, generator=seeded)"
    tokens = solution.top_p_sample(logits, 0.5, generator=seeded(17, device))
    assert isinstance(tokens, torch.Tensor), f"{call} returned {type(tokens).__name__}"
    assert tokens.dtype == torch.int64 and tokens.shape == batch, (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 {batch}"
    )
    assert tokens.device == logits.device, (
        f"{call} returned tokens on {tokens.device}; expected {logits.device}"
    )
    kept, margin = nucleus(logits, 0.5)
    assert margin >= MARGIN, "test bug: a running sum too close to p"
    assert bool(kept.to(device).gather(-1, tokens[..., None]).all()), (
        f"{call} returned {tokens.tolist()}, not all in the nucleus of their rows"
    )


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_draws_from_low_precision_logits_stay_in_the_nucleus(solution, dtype):
    probs = [[0.05, 0.45, 0.15, 0.35], [0.3, 0.1, 0.45, 0.15]]  # p = 0.7 keeps {1, 3}, {0, 2}
    logits = repeat_rows(torch.tensor([log_probs(r) for r in probs]), 2_000).to(dtype)
    call = f"top_p_sample({shown(logits)}, p=0.7, generator=seeded)"
    tokens = solution.top_p_sample(logits, 0.7, generator=seeded(18))
    assert tokens.dtype == torch.int64 and tokens.shape == (2, 2_000), (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 (2, 2000)"
    )
    for g, allowed in enumerate([{1, 3}, {0, 2}]):
        drawn = set(tokens[g].unique().tolist())
        assert drawn == allowed, f"{call} drew {sorted(drawn)} in row {g}; expected {allowed}"


@pytest.mark.parametrize("device", DEVICES)
def test_the_generator_decides_the_draws(solution, device):
    logits = torch.zeros(2_000, 10, device=device)
    call = f"top_p_sample({shown(logits)}, p=0.95, generator=seeded)"
    first = solution.top_p_sample(logits, 0.95, generator=seeded(19, device))
    again = solution.top_p_sample(logits, 0.95, generator=seeded(19, device))
    other = solution.top_p_sample(logits, 0.95, generator=seeded(20, device))
    assert torch.equal(first, again), (
        f"{call}: two generators seeded alike gave different draws; draw from `generator`"
    )
    assert not torch.equal(first, other), (
        f"{call}: generators seeded 19 and 20 gave the same draws; draw from `generator`"
    )


def test_without_a_generator_the_draws_come_from_torchs_global_generator(solution):
    logits = randn(21, 2_000, 10, scale=0.1).float()
    call = f"top_p_sample({shown(logits)}, p=0.95)"
    torch.manual_seed(21)
    first = solution.top_p_sample(logits, 0.95)
    second = solution.top_p_sample(logits, 0.95)
    torch.manual_seed(21)
    replay = solution.top_p_sample(logits, 0.95)
    assert not torch.equal(first, second), (
        f"{call} twice gave the same draws: without a generator, draw from torch's global one"
    )
    assert torch.equal(first, replay), (
        f"{call} after torch.manual_seed(21) twice gave different draws: without a generator, "
        f"draw from torch's global generator"
    )


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("p", [-0.1, -1e-9, 1.0 + 1e-6, 1.5])
def test_a_p_outside_0_1_raises_a_value_error(solution, p):
    logits = randn(22, 2, 5)
    assert_value_error(f"top_p_filter(logits, p={p})", lambda: solution.top_p_filter(logits, p))
    assert_value_error(
        f"top_p_sample(logits, p={p})",
        lambda: solution.top_p_sample(logits, p, generator=seeded(23)),
    )


@pytest.mark.parametrize("temperature", [-1.0, -1e-6])
def test_a_negative_temperature_raises_a_value_error(solution, temperature):
    logits = randn(24, 2, 5)
    assert_value_error(
        f"top_p_sample(logits, p=0.9, temperature={temperature})",
        lambda: solution.top_p_sample(logits, 0.9, temperature, generator=seeded(25)),
    )
