"""Tests for the temperature_sampling kata: probabilities, greedy and flat limits, draws.

apply_temperature is compared with softmax(logits / T) computed here in float64. The sampler
is judged by the distribution of its draws, never by the draws themselves: tens of thousands
of tokens drawn at once (logits of shape (G, n, V)) from a seeded generator, then Pearson's
chi-square test against the float64 probabilities, failing below p = 1e-6 (a right sampler
fails it once in a million seeds; the seeds are fixed, so the verdict is deterministic).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, assert_draws_follow, tolerance

INF = float("inf")
DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


# ---------------------------------------------------------------------------- helpers


def softmax64(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The oracle: softmax(logits / T) in float64, written out, on the CPU."""
    x = logits.detach().cpu().to(torch.float64) / temperature
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def one_hot_of_first_max(logits: torch.Tensor) -> torch.Tensor:
    """The oracle at T = 0: 1.0 at the lowest index of each row's maximum, in float64."""
    rows = logits.detach().cpu().to(torch.float64).reshape(-1, logits.shape[-1])
    out = torch.zeros_like(rows)
    for i, row in enumerate(rows.tolist()):
        out[i, row.index(max(row))] = 1.0
    return out.reshape(logits.shape)


def seeded(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def randn(seed: int, *shape: int, scale: float = 1.5) -> torch.Tensor:
    return scale * torch.randn(shape, generator=seeded(seed), dtype=torch.float64)


def describe(name: str, logits: torch.Tensor, temperature: float, **extra: object) -> str:
    kind = "" if logits.is_contiguous() else "non-contiguous "
    dtype = str(logits.dtype).removeprefix("torch.")
    args = [f"logits {kind}{dtype} {tuple(logits.shape)} on {logits.device.type}"]
    args.append(f"temperature={temperature}")
    args += [f"{k}={v}" for k, v in extra.items()]
    return f"{name}({', '.join(args)})"


def repeat_rows(rows: torch.Tensor, n: int) -> torch.Tensor:
    """(G, V) -> (G, n, V): each of the G distributions n times, contiguous, so that one
    call draws n tokens from each."""
    return rows[:, None, :].expand(rows.shape[0], n, rows.shape[1]).contiguous()


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    logits = torch.tensor([2.0, 1.0, 0.0])
    to_4_places = {"rtol": 0, "atol": 5e-5}
    shown = {
        1.0: [0.6652, 0.2447, 0.0900],
        0.5: [0.8668, 0.1173, 0.0159],
        2.0: [0.5065, 0.3072, 0.1863],
        0.0: [1.0, 0.0, 0.0],
    }
    for temperature, probs in shown.items():
        got = solution.apply_temperature(logits, temperature)
        assert torch.equal(logits, torch.tensor([2.0, 1.0, 0.0])), (
            f"apply_temperature([2., 1., 0.], {temperature}) changed its input logits in place"
        )
        assert_close(
            got,
            torch.tensor(probs),
            msg=lambda m, t=temperature: f"apply_temperature([2., 1., 0.], {t})\n{m}",
            **to_4_places,
        )
    token = solution.sample_with_temperature(logits, 0.0)
    assert token.shape == () and int(token) == 0, (
        f"sample_with_temperature([2., 1., 0.], 0.0) returned {token!r}; expected tensor(0)"
    )
    many = logits.expand(20_000, 3).contiguous()
    tokens = solution.sample_with_temperature(many, 2.0, generator=seeded(0))
    call = "sample_with_temperature([2., 1., 0.] repeated 20000 times, 2.0, generator=seeded)"
    assert_draws_follow(tokens[None], softmax64(logits[None], 2.0), call)


# ---------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)], ids=["no-batch", "B", "B-L"])
def test_apply_temperature_is_the_softmax_of_logits_over_t(solution, device, batch):
    logits = randn(1, *batch, 7).to(device)
    for temperature in (0.25, 0.5, 1.0, 2.0, 7.5):
        call = describe("apply_temperature", logits, temperature)
        got = solution.apply_temperature(logits, temperature)
        want = softmax64(logits, temperature).to(device)
        assert_close(got, want, msg=lambda m, c=call: f"{c}\n{m}")


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_apply_temperature_keeps_the_dtype_of_the_logits(solution, dtype):
    logits = randn(2, 4, 9).to(dtype)
    call = describe("apply_temperature", logits, 0.7)
    got = solution.apply_temperature(logits, 0.7)
    want = softmax64(logits, 0.7).to(dtype)
    assert_close(got, want, msg=lambda m: f"{call}\n{m}", **tolerance(dtype))
    call = describe("apply_temperature", logits, 0.0)
    got = solution.apply_temperature(logits, 0.0)
    want = one_hot_of_first_max(logits).to(dtype)
    assert_close(got, want, msg=lambda m: f"{call}: the one-hot keeps the logits' dtype\n{m}")


@pytest.mark.parametrize("device", DEVICES)
def test_zero_temperature_gives_the_one_hot_of_the_argmax(solution, device):
    logits = torch.tensor(
        [
            [0.5, 3.0, -1.0, 2.0],
            [4.0, -INF, 4.0, 1.0],
            [-2.0, -2.0, -2.0, -2.0],
            [1.0, 2.0, 3.0, 3.0],
        ]
    ).to(device)
    call = describe("apply_temperature", logits, 0.0)
    want = torch.tensor([[0.0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]]).to(device)
    got = solution.apply_temperature(logits, 0.0)
    assert_close(
        got,
        want,
        msg=lambda m: f"{call}: expected a one-hot of each row's argmax, lowest index on ties\n{m}",
    )


def test_a_very_large_temperature_gives_a_nearly_uniform_distribution(solution):
    logits = randn(3, 2, 10)
    call = describe("apply_temperature", logits, 1e4)
    got = solution.apply_temperature(logits, 1e4)
    assert_close(
        got,
        torch.full((2, 10), 0.1, dtype=torch.float64),
        rtol=1e-3,
        atol=0,
        msg=lambda m: f"{call}: expected every probability within 0.1% of 1/10\n{m}",
    )


def test_a_large_temperature_revives_a_token_whose_probability_underflowed(solution):
    logits = torch.tensor([[0.0, -120.0], [-120.0, 0.0]])  # exp(-120) is 0 in float32
    call = describe("apply_temperature", logits, 40.0)
    got = solution.apply_temperature(logits, 40.0)
    want = torch.tensor([[0.952574, 0.047426], [0.047426, 0.952574]])
    assert_close(
        got,
        want,
        msg=lambda m: (
            f"{call}: expected softmax(logits / 40) = softmax([0, -3]); divide the logits "
            f"by T, do not raise softmax(logits) to the power 1/T\n{m}"
        ),
        **tolerance(torch.float32),
    )


def test_masked_tokens_get_probability_exactly_zero(solution):
    logits = torch.tensor([[1.0, -INF, 0.5, -INF], [-INF, -INF, 2.0, -1.0]])
    for temperature in (0.5, 1.0, 3.0):
        call = describe("apply_temperature", logits, temperature)
        got = solution.apply_temperature(logits, temperature)
        assert_close(got, softmax64(logits, temperature).float(), msg=lambda m, c=call: f"{c}\n{m}")
        assert bool((got[torch.isinf(logits)] == 0).all()), (
            f"{call} gave a token of logit -inf probability {got.tolist()}; expected exactly 0"
        )


@st.composite
def logits_and_temperatures(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    V = draw(st.integers(1, 9))
    # quarter integers: ties happen, which the T = 0 case must break towards the lowest index
    values = draw(st.lists(st.integers(-16, 16), min_size=V, max_size=V))
    seed = draw(st.integers(0, 2**16))
    temperature = draw(st.one_of(st.just(0.0), st.floats(0.05, 20.0)))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    base = torch.tensor(values, dtype=torch.float64) / 4
    noise = randn(seed, *batch, V, scale=0.5).round()  # rows differ, by whole numbers
    return (base + noise).to(dtype), temperature


@settings(max_examples=40)
@given(case=logits_and_temperatures())
def test_drawn_shapes_and_temperatures_match_the_oracle(solution, case):
    logits, temperature = case
    call = describe("apply_temperature", logits, temperature)
    got = solution.apply_temperature(logits, temperature)
    want = one_hot_of_first_max(logits) if temperature == 0 else softmax64(logits, temperature)
    assert_close(got, want.to(logits.dtype), msg=lambda m: f"{call}\n{m}")


# ---------------------------------------------------------------------------- draws


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_draws_follow_the_softmax_of_logits_over_t(solution, temperature):
    rows = randn(4, 3, 8)  # three different distributions, 7_000 draws from each
    logits = repeat_rows(rows, 7_000).float()
    call = describe("sample_with_temperature", logits, temperature, generator="seeded")
    tokens = solution.sample_with_temperature(logits, temperature, generator=seeded(5))
    assert_draws_follow(tokens, softmax64(rows.float(), temperature), call)


def test_draws_from_float64_logits_with_masked_tokens_follow_the_distribution(solution):
    rows = randn(6, 2, 10)
    rows[0, [1, 4, 5]] = -INF
    rows[1, [0, 9]] = -INF
    logits = repeat_rows(rows, 10_000)
    call = describe("sample_with_temperature", logits, 1.5, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 1.5, generator=seeded(7))
    assert_draws_follow(tokens, softmax64(rows, 1.5), call)


def test_a_tiny_temperature_always_draws_the_argmax(solution):
    # gaps of 0.25 between logits: at T = 1e-3 the runner-up has probability e^-250
    rows = torch.stack([torch.randperm(9, generator=seeded(8 + g)) for g in range(3)]) / 4
    logits = repeat_rows(rows, 2_000)
    call = describe("sample_with_temperature", logits, 1e-3, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 1e-3, generator=seeded(11))
    want = rows.argmax(dim=-1)[:, None].expand(3, 2_000)
    assert torch.equal(tokens, want), (
        f"{call} drew {tokens.unique().tolist()}; expected only each row's argmax "
        f"{rows.argmax(dim=-1).tolist()}"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_zero_temperature_returns_the_argmax_with_the_lowest_index_on_ties(solution, device):
    logits = torch.tensor([[0.5, 3.0, -1.0, 2.0], [4.0, -INF, 4.0, 1.0], [1.0, 2.0, 3.0, 3.0]])
    logits = logits.to(device)
    call = describe("sample_with_temperature", logits, 0.0)
    tokens = solution.sample_with_temperature(logits, 0.0, generator=seeded(12, device))
    want = torch.tensor([1, 0, 2], device=device)
    assert_close(tokens, want, msg=lambda m: f"{call}: expected each row's argmax\n{m}")


def test_a_huge_temperature_draws_every_token_equally_often(solution):
    rows = randn(13, 2, 6, scale=3.0)
    logits = repeat_rows(rows, 10_000)
    call = describe("sample_with_temperature", logits, 1e6, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 1e6, generator=seeded(14))
    assert_draws_follow(tokens, torch.full((2, 6), 1 / 6, dtype=torch.float64), call)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "batch", [(), (5,), (2, 3), (2, 1, 3)], ids=["no-batch", "N", "B-L", "three-dims"]
)
def test_draws_have_the_leading_shape_of_the_logits_and_dtype_int64(solution, device, batch):
    logits = randn(15, *batch, 11).float().to(device)
    call = describe("sample_with_temperature", logits, 0.8, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 0.8, generator=seeded(16, device))
    assert isinstance(tokens, torch.Tensor), f"{call} returned {type(tokens).__name__}"
    assert tokens.dtype == torch.int64 and tokens.shape == batch, (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 {batch}"
    )
    assert tokens.device == logits.device, (
        f"{call} returned tokens on {tokens.device}; expected {logits.device}"
    )
    assert bool(((tokens >= 0) & (tokens < 11)).all()), f"{call} returned {tokens.tolist()}"


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_draws_from_low_precision_logits_avoid_masked_tokens(solution, dtype):
    rows = randn(17, 2, 6)
    rows[:, ::2] = -INF
    logits = repeat_rows(rows, 2_000).to(dtype)
    call = describe("sample_with_temperature", logits, 1.3, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 1.3, generator=seeded(18))
    assert tokens.dtype == torch.int64 and tokens.shape == (2, 2_000), (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 (2, 2000)"
    )
    drawn = tokens.unique().tolist()
    assert set(drawn) <= {1, 3, 5}, f"{call} drew {drawn}; tokens 0, 2, 4 have logit -inf"


@pytest.mark.parametrize("device", DEVICES)
def test_the_generator_decides_the_draws(solution, device):
    logits = torch.zeros(2_000, 10, device=device)
    call = describe("sample_with_temperature", logits, 1.0, generator="seeded")
    first = solution.sample_with_temperature(logits, 1.0, generator=seeded(19, device))
    again = solution.sample_with_temperature(logits, 1.0, generator=seeded(19, device))
    other = solution.sample_with_temperature(logits, 1.0, generator=seeded(20, device))
    assert torch.equal(first, again), (
        f"{call}: two generators seeded alike gave different draws; draw from `generator`"
    )
    assert not torch.equal(first, other), (
        f"{call}: generators seeded 19 and 20 gave the same draws; draw from `generator`"
    )


def test_without_a_generator_the_draws_come_from_torchs_global_generator(solution):
    logits = torch.zeros(2_000, 10)
    call = describe("sample_with_temperature", logits, 1.0)
    torch.manual_seed(21)
    first = solution.sample_with_temperature(logits, 1.0)
    second = solution.sample_with_temperature(logits, 1.0)
    torch.manual_seed(21)
    replay = solution.sample_with_temperature(logits, 1.0)
    assert not torch.equal(first, second), (
        f"{call} twice gave the same draws: without a generator, draw from torch's global one"
    )
    assert torch.equal(first, replay), (
        f"{call} after torch.manual_seed(21) twice gave different draws: without a generator, "
        f"draw from torch's global generator"
    )


def test_the_logits_are_left_unchanged(solution):
    logits = randn(22, 50, 7).float()
    logits[0, 3] = -INF
    before = logits.clone()
    for temperature in (0.0, 0.5, 2.0):
        solution.apply_temperature(logits, temperature)
        assert torch.equal(logits, before), (
            f"apply_temperature(logits, {temperature}) changed logits"
        )
        solution.sample_with_temperature(logits, temperature, generator=seeded(23))
        assert torch.equal(logits, before), (
            f"sample_with_temperature(logits, {temperature}) changed logits"
        )


def test_a_non_contiguous_view_of_logits_works(solution):
    rows = randn(24, 2, 8).float()
    wide = torch.zeros(2, 5_000, 16)
    wide[..., ::2] = repeat_rows(rows, 5_000)
    logits = wide[..., ::2]  # (2, 5000, 8), every other entry of a wider tensor
    call = describe("sample_with_temperature", logits, 0.9, generator="seeded")
    tokens = solution.sample_with_temperature(logits, 0.9, generator=seeded(25))
    assert_draws_follow(tokens, softmax64(rows, 0.9), call)
    call = describe("apply_temperature", logits, 0.9)
    got = solution.apply_temperature(logits, 0.9)
    assert_close(got, softmax64(logits, 0.9).float(), msg=lambda m: f"{call}\n{m}")


# ---------------------------------------------------------------------------- errors


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


@pytest.mark.parametrize("temperature", [-1.0, -1e-6])
def test_a_negative_temperature_raises_a_value_error(solution, temperature):
    logits = randn(26, 2, 5)
    assert_value_error(
        f"apply_temperature(logits, {temperature})",
        lambda: solution.apply_temperature(logits, temperature),
    )
    assert_value_error(
        f"sample_with_temperature(logits, {temperature})",
        lambda: solution.sample_with_temperature(logits, temperature, generator=seeded(27)),
    )
