"""Tests for the top_k_sampling kata: exact masks, ties, batched rows, draws.

top_k_filter is checked exactly against masks worked out by hand and against a loop over
each row's sorted values. The sampler is judged by the distribution of its draws, never by
the draws themselves: tens of thousands of tokens drawn at once (logits of shape (G, n, V))
from a seeded generator, then Pearson's chi-square test against softmax of the filtered
logits in float64, failing below p = 1e-6 (a right sampler fails it once in a million seeds;
the seeds are fixed, so the verdict is deterministic).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, assert_draws_follow

INF = float("inf")
DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


# ---------------------------------------------------------------------------- helpers

OUTSIDE = "which is outside the top k"  # how a draw that should be impossible is named


def top_k_oracle(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Row by row: keep every value >= the k-th largest (counting repeats), else -inf."""
    rows = logits.detach().cpu().reshape(-1, logits.shape[-1])
    out = rows.clone()
    for i, row in enumerate(rows.tolist()):
        kth = sorted(row, reverse=True)[min(k, len(row)) - 1]
        for j, value in enumerate(row):
            if value < kth:
                out[i, j] = -INF
    return out.reshape(logits.shape)


def softmax64(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """softmax(logits / T) in float64, written out, on the CPU (-inf entries give 0)."""
    x = logits.detach().cpu().to(torch.float64) / temperature
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def seeded(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def randn(seed: int, *shape: int, scale: float = 1.5) -> torch.Tensor:
    return scale * torch.randn(shape, generator=seeded(seed), dtype=torch.float64)


def shown(logits: torch.Tensor) -> str:
    kind = "" if logits.is_contiguous() else "non-contiguous "
    dtype = str(logits.dtype).removeprefix("torch.")
    if logits.numel() <= 12:
        return f"{dtype} {logits.tolist()}"
    return f"logits {kind}{dtype} {tuple(logits.shape)} on {logits.device.type}"


def repeat_rows(rows: torch.Tensor, n: int) -> torch.Tensor:
    """(G, V) -> (G, n, V): each of the G distributions n times, contiguous, so that one
    call draws n tokens from each."""
    return rows[:, None, :].expand(rows.shape[0], n, rows.shape[1]).contiguous()


def filtered(solution, logits: torch.Tensor, k: int) -> torch.Tensor:
    """solution.top_k_filter(logits, k), checked to leave logits unchanged, with any error
    but NotImplementedError turned into a test failure that names the call."""
    __tracebackhide__ = True
    call = f"top_k_filter({shown(logits)}, k={k})"
    before = logits.clone()
    try:
        got = solution.top_k_filter(logits, k)
    except NotImplementedError:
        raise
    except Exception as exc:  # a crash on a legitimate input is a wrong answer here
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}")
    assert torch.equal(logits, before), f"{call} changed its input logits in place"
    return got


def assert_filter_gives(solution, logits: torch.Tensor, k: int, want: torch.Tensor) -> None:
    __tracebackhide__ = True
    call = f"top_k_filter({shown(logits)}, k={k})"
    got = filtered(solution, logits, k)
    assert_close(
        got,
        want,
        rtol=0,
        atol=0,
        msg=lambda m: (
            f"{call} returned {got.tolist() if got.numel() <= 12 else '...'}; expected "
            f"{want.tolist() if want.numel() <= 12 else '...'} (kept logits unchanged, "
            f"the rest -inf, every tie at the k-th value kept)\n{m}"
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
    logits = torch.tensor([1.0, 3.0, 2.0, 2.0, 0.5])
    assert_filter_gives(solution, logits, 1, torch.tensor([-INF, 3.0, -INF, -INF, -INF]))
    assert_filter_gives(solution, logits, 2, torch.tensor([-INF, 3.0, 2.0, 2.0, -INF]))
    assert_filter_gives(solution, logits, 4, torch.tensor([1.0, 3.0, 2.0, 2.0, -INF]))
    assert_filter_gives(solution, logits, 9, logits)
    want = torch.tensor([[0.0, 0.5761, 0.2119, 0.2119, 0.0]], dtype=torch.float64)
    assert_close(
        softmax64(filtered(solution, logits, 2))[None],
        want,
        rtol=0,
        atol=5e-5,
        msg=lambda m: f"softmax(top_k_filter([1., 3., 2., 2., 0.5], k=2))\n{m}",
    )
    many = logits.expand(20_000, 5).contiguous()
    tokens = solution.top_k_sample(many, 2, generator=seeded(0))
    call = "top_k_sample([1., 3., 2., 2., 0.5] repeated 20000 times, k=2, generator=seeded)"
    assert_draws_follow(tokens[None], softmax64(top_k_oracle(logits, 2))[None], call, OUTSIDE)


# ---------------------------------------------------------------------------- the filter


CRAFTED = {
    "no-ties": ([0.5, -1.0, 2.0, 1.5, 0.0], 3, [0.5, -INF, 2.0, 1.5, -INF]),
    "k=1": ([0.5, -1.0, 2.0, 1.5, 0.0], 1, [-INF, -INF, 2.0, -INF, -INF]),
    "tie-at-kth-kept": ([4.0, 1.0, 3.0, 1.0, 1.0, 0.0], 3, [4.0, 1.0, 3.0, 1.0, 1.0, -INF]),
    "tie-above-kth": ([2.0, 2.0, 2.0, 1.0, 0.0], 2, [2.0, 2.0, 2.0, -INF, -INF]),
    "tie-just-below-kth": ([3.0, 2.0, 1.0, 1.0], 2, [3.0, 2.0, -INF, -INF]),
    "tied-maxima-k=1": ([1.0, 5.0, 0.0, 5.0], 1, [-INF, 5.0, -INF, 5.0]),
    "all-equal": ([0.7, 0.7, 0.7], 1, [0.7, 0.7, 0.7]),
    "negative-logits": ([-3.0, -1.0, -2.0, -4.0], 2, [-INF, -1.0, -2.0, -INF]),
    "k=V-1": ([0.1, 0.4, 0.3, 0.2], 3, [-INF, 0.4, 0.3, 0.2]),
    "already-masked": ([1.0, -INF, 0.5, -INF, 0.25], 2, [1.0, -INF, 0.5, -INF, -INF]),
    "k-reaches-masked": ([1.0, -INF, 0.5, -INF], 3, [1.0, -INF, 0.5, -INF]),
    "V=1": ([0.3], 1, [0.3]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("row", "k", "want"), CRAFTED.values(), ids=CRAFTED.keys())
def test_the_filter_keeps_the_top_k_and_every_tie_at_the_kth_value(solution, device, row, k, want):
    logits = torch.tensor(row, device=device)
    assert_filter_gives(solution, logits, k, torch.tensor(want, device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_each_row_of_a_batch_has_its_own_kth_value(solution, device):
    logits = torch.tensor(
        [
            [[0.0, 1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0, 0.0]],
            [[1.0, 1.0, 0.0, 9.0, 1.0], [-5.0, -6.0, -7.0, -8.0, -9.0]],
            [[2.0, 8.0, 2.0, 8.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
        ],
        device=device,
    )  # (3, 2, 5)
    want = torch.tensor(
        [
            [[-INF, -INF, -INF, 3.0, 4.0], [4.0, 3.0, -INF, -INF, -INF]],
            [[1.0, 1.0, -INF, 9.0, 1.0], [-5.0, -6.0, -INF, -INF, -INF]],
            [[-INF, 8.0, -INF, 8.0, -INF], [0.0, 0.0, 0.0, 0.0, 0.0]],
        ],
        device=device,
    )
    assert_filter_gives(solution, logits, 2, want)


@pytest.mark.parametrize("k", [7, 8, 1000], ids=["k=V", "k=V+1", "k=1000"])
def test_a_k_of_at_least_the_vocabulary_size_keeps_every_token(solution, k):
    logits = randn(1, 3, 7).float()
    logits[1, 2] = -INF
    assert_filter_gives(solution, logits, k, logits.clone())


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_the_filter_keeps_the_dtype_and_the_kept_logits_bit_for_bit(solution, dtype):
    logits = (randn(2, 4, 9) * 4).round() / 4  # quarter integers: exact in every dtype
    logits = (logits + torch.tensor([0.1, 0.3, 0.7, 0.9])[:, None]).to(dtype)  # not exact
    assert_filter_gives(solution, logits, 3, top_k_oracle(logits, 3))


@st.composite
def logits_and_k(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    V = draw(st.integers(1, 9))
    k = draw(st.integers(1, V + 2))
    seed = draw(st.integers(0, 2**16))
    # whole numbers in a narrow range: ties everywhere, at the k-th value too
    logits = torch.randint(-3, 4, (*batch, V), generator=seeded(seed)).to(torch.float32)
    if draw(st.booleans()):  # some tokens masked already
        logits = logits.masked_fill(torch.rand(logits.shape, generator=seeded(seed)) < 0.2, -INF)
        logits[..., draw(st.integers(0, V - 1))] = 0.0  # every row keeps a finite logit
    if logits.ndim >= 2 and draw(st.booleans()):  # a non-contiguous view
        logits = logits.transpose(-1, -2).contiguous().transpose(-1, -2)
    return logits, k


@settings(max_examples=40)
@given(case=logits_and_k())
def test_drawn_shapes_ties_and_ks_match_a_loop_over_sorted_rows(solution, case):
    logits, k = case
    assert_filter_gives(solution, logits, k, top_k_oracle(logits, k))


def test_the_logits_are_left_unchanged(solution):
    logits = randn(3, 50, 7).float()
    logits[0, 3] = -INF
    before = logits.clone()
    filtered(solution, logits, 3)
    assert torch.equal(logits, before), "top_k_filter(logits, k=3) changed logits"
    for temperature in (0.0, 0.5, 2.0):
        solution.top_k_sample(logits, 3, temperature, generator=seeded(4))
        assert torch.equal(logits, before), (
            f"top_k_sample(logits, k=3, temperature={temperature}) changed logits"
        )


# ---------------------------------------------------------------------------- draws


@pytest.mark.parametrize("temperature", [0.6, 1.0, 2.5])
def test_draws_follow_the_renormalised_top_k(solution, temperature):
    rows = randn(5, 3, 10)  # three different distributions, 7_000 draws from each
    logits = repeat_rows(rows, 7_000).float()
    call = f"top_k_sample({shown(logits)}, k=4, temperature={temperature}, generator=seeded)"
    tokens = solution.top_k_sample(logits, 4, temperature, generator=seeded(6))
    want = softmax64(top_k_oracle(rows.float(), 4), temperature)
    assert_draws_follow(tokens, want, call, OUTSIDE)


def test_draws_reach_every_token_tied_at_the_kth_value(solution):
    rows = torch.tensor(
        [[0.0, 1.0, 2.0, 1.0, -1.0, 1.0], [3.0, 3.0, 3.0, 0.0, 3.0, -2.0]], dtype=torch.float64
    )  # k = 2 keeps four tokens of each row
    logits = repeat_rows(rows, 8_000)
    call = f"top_k_sample({shown(logits)}, k=2, generator=seeded)"
    tokens = solution.top_k_sample(logits, 2, generator=seeded(7))
    assert_draws_follow(tokens, softmax64(top_k_oracle(rows, 2)), call, OUTSIDE)


def test_with_a_k_of_at_least_the_vocabulary_size_draws_follow_the_full_softmax(solution):
    rows = randn(8, 2, 6)
    logits = repeat_rows(rows, 8_000)
    call = f"top_k_sample({shown(logits)}, k=6, temperature=0.8, generator=seeded)"
    tokens = solution.top_k_sample(logits, 6, 0.8, generator=seeded(9))
    assert_draws_follow(tokens, softmax64(rows, 0.8), call, OUTSIDE)
    tokens = solution.top_k_sample(logits, 50, 0.8, generator=seeded(10))
    assert_draws_follow(tokens, softmax64(rows, 0.8), call.replace("k=6", "k=50"), OUTSIDE)


def test_with_k_1_every_draw_is_the_argmax(solution):
    rows = torch.stack([torch.randperm(9, generator=seeded(11 + g)) for g in range(3)]).float()
    logits = repeat_rows(rows, 1_000)
    tokens = solution.top_k_sample(logits, 1, 5.0, generator=seeded(14))
    want = rows.argmax(dim=-1)[:, None].expand(3, 1_000)
    assert torch.equal(tokens, want), (
        f"top_k_sample({shown(logits)}, k=1, temperature=5.0) drew {tokens.unique().tolist()}; "
        f"expected only each row's argmax {rows.argmax(dim=-1).tolist()}"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_zero_temperature_returns_the_argmax(solution, device):
    logits = torch.tensor([[0.5, 3.0, -1.0, 2.0], [4.0, -INF, 4.0, 1.0], [1.0, 2.0, 3.0, 3.0]])
    logits = logits.to(device)
    tokens = solution.top_k_sample(logits, 2, 0.0, generator=seeded(15, device))
    want = torch.tensor([1, 0, 2], device=device)
    assert_close(
        tokens,
        want,
        msg=lambda m: (
            f"top_k_sample({shown(logits)}, k=2, temperature=0.0): expected each row's "
            f"argmax, the lowest index among tied maxima\n{m}"
        ),
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "batch", [(), (5,), (2, 3), (2, 1, 3)], ids=["no-batch", "N", "B-L", "three-dims"]
)
def test_draws_have_the_leading_shape_of_the_logits_and_dtype_int64(solution, device, batch):
    logits = randn(16, *batch, 11).float().to(device)
    call = f"top_k_sample({shown(logits)}, k=3, generator=seeded)"
    tokens = solution.top_k_sample(logits, 3, generator=seeded(17, device))
    assert isinstance(tokens, torch.Tensor), f"{call} returned {type(tokens).__name__}"
    assert tokens.dtype == torch.int64 and tokens.shape == batch, (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 {batch}"
    )
    assert tokens.device == logits.device, (
        f"{call} returned tokens on {tokens.device}; expected {logits.device}"
    )
    allowed = torch.isfinite(top_k_oracle(logits, 3)).to(device)
    assert bool(allowed.gather(-1, tokens[..., None]).all()), (
        f"{call} returned {tokens.tolist()}, not all in the top 3 of their rows"
    )


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_draws_from_low_precision_logits_stay_in_the_top_k(solution, dtype):
    rows = torch.tensor([[0.0, 2.0, 1.0, 3.0, -1.0, 2.5], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    logits = repeat_rows(rows, 2_000).to(dtype)
    call = f"top_k_sample({shown(logits)}, k=3, temperature=1.5, generator=seeded)"
    tokens = solution.top_k_sample(logits, 3, 1.5, generator=seeded(18))
    assert tokens.dtype == torch.int64 and tokens.shape == (2, 2_000), (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 (2, 2000)"
    )
    for g, allowed in enumerate([{1, 3, 5}, {0, 2, 4}]):
        drawn = set(tokens[g].unique().tolist())
        assert drawn == allowed, f"{call} drew {sorted(drawn)} in row {g}; expected {allowed}"


@pytest.mark.parametrize("device", DEVICES)
def test_the_generator_decides_the_draws(solution, device):
    logits = torch.zeros(2_000, 10, device=device)
    call = f"top_k_sample({shown(logits)}, k=5, generator=seeded)"
    first = solution.top_k_sample(logits, 5, generator=seeded(19, device))
    again = solution.top_k_sample(logits, 5, generator=seeded(19, device))
    other = solution.top_k_sample(logits, 5, generator=seeded(20, device))
    assert torch.equal(first, again), (
        f"{call}: two generators seeded alike gave different draws; draw from `generator`"
    )
    assert not torch.equal(first, other), (
        f"{call}: generators seeded 19 and 20 gave the same draws; draw from `generator`"
    )


def test_without_a_generator_the_draws_come_from_torchs_global_generator(solution):
    logits = torch.zeros(2_000, 10)
    call = f"top_k_sample({shown(logits)}, k=5)"
    torch.manual_seed(21)
    first = solution.top_k_sample(logits, 5)
    second = solution.top_k_sample(logits, 5)
    torch.manual_seed(21)
    replay = solution.top_k_sample(logits, 5)
    assert not torch.equal(first, second), (
        f"{call} twice gave the same draws: without a generator, draw from torch's global one"
    )
    assert torch.equal(first, replay), (
        f"{call} after torch.manual_seed(21) twice gave different draws: without a generator, "
        f"draw from torch's global generator"
    )


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("k", [0, -1])
def test_a_k_below_1_raises_a_value_error(solution, k):
    logits = randn(22, 2, 5)
    assert_value_error(f"top_k_filter(logits, k={k})", lambda: solution.top_k_filter(logits, k))
    assert_value_error(
        f"top_k_sample(logits, k={k})",
        lambda: solution.top_k_sample(logits, k, generator=seeded(23)),
    )


@pytest.mark.parametrize("temperature", [-1.0, -1e-6])
def test_a_negative_temperature_raises_a_value_error(solution, temperature):
    logits = randn(24, 2, 5)
    assert_value_error(
        f"top_k_sample(logits, k=2, temperature={temperature})",
        lambda: solution.top_k_sample(logits, 2, temperature, generator=seeded(25)),
    )
