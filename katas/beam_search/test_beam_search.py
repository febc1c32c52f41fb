"""Tests for the beam_search kata: widths, eos, the length penalty, ties, budgets, the calls.

The models are small tables written here: a Markov table (logits depend on the last token),
a seeded model whose logits depend on the whole prefix, and hand-built trees of
probabilities. Three oracles are written below, all in float64: greedy search (for width 1),
brute force over every continuation (for a width that keeps every candidate), and the
stub's contract transcribed step by step (for the widths in between). The oracles also
report near-ties that float rounding could decide (a Markov chain meets them often: the
moves 0 -> 1 -> 0 -> 0 and 0 -> 0 -> 1 -> 0 add the same log-probabilities in another
order); a drawn case with one is skipped, and no written case has one.
"""

from __future__ import annotations

import math
import zlib

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

# ---------------------------------------------------------------------------- models


class Model:
    """A next-token model for the tests: `model(ids)` records the call and returns logits.

    `logits(ids)` is the model itself, in float64 on the CPU; a call returns those logits
    cast to `dtype` and moved to `device`, and the oracles read the same rounded values."""

    V: int

    def __init__(self, dtype: torch.dtype = torch.float64, device: str = "cpu") -> None:
        self.dtype, self.device = dtype, device
        self.calls: list[list[int]] = []
        self.bad_calls: list[str] = []

    def logits(self, ids: list[int]) -> torch.Tensor:
        raise NotImplementedError

    def logp(self, ids: list[int]) -> list[float]:
        """log_softmax of the logits the solution sees, in float64: the oracles' numbers."""
        rounded = self.logits(ids).to(self.dtype).to(torch.float64)
        return torch.log_softmax(rounded, dim=-1).tolist()

    def __call__(self, ids: list[int]) -> torch.Tensor:
        if type(ids) is not list or any(type(t) is not int for t in ids):
            self.bad_calls.append(f"{type(ids).__name__} {ids!r}")
        ids = [int(t) for t in ids]
        self.calls.append(ids)
        return self.logits(ids).to(self.dtype).to(self.device)


class Markov(Model):
    """Logits that depend on the last token only: table[ids[-1]] of a (V, V) table."""

    def __init__(self, table: torch.Tensor, **kw) -> None:
        super().__init__(**kw)
        self.table = table.to(torch.float64)
        self.V = table.shape[-1]

    def logits(self, ids: list[int]) -> torch.Tensor:
        return self.table[ids[-1] if ids else -1].clone()


class Prefix(Model):
    """Seeded normal logits (V,) that depend on the whole sequence, not only its end, plus
    a fixed `bias` (V,) when one is given. Unlike a Markov table, no two continuations
    share their log-probabilities, so the rankings have no near-ties."""

    def __init__(
        self, V: int, seed: int, scale: float = 1.5, bias: list[float] | None = None, **kw
    ) -> None:
        super().__init__(**kw)
        self.V, self.seed, self.scale = V, seed, scale
        self.bias = torch.tensor(bias or [0.0] * V, dtype=torch.float64)

    def logits(self, ids: list[int]) -> torch.Tensor:
        gen = torch.Generator().manual_seed(zlib.crc32(repr((self.seed, tuple(ids))).encode()))
        return self.scale * torch.randn(self.V, generator=gen, dtype=torch.float64) + self.bias


class Tree(Prefix):
    """Hand-written next-token probabilities for some sequences (the logits are their
    natural logs), and a Prefix model's seeded logits for every other sequence."""

    def __init__(self, V: int, probs: dict[tuple[int, ...], list[float]], **kw) -> None:
        super().__init__(V, seed=V, **kw)
        self.probs = probs

    def logits(self, ids: list[int]) -> torch.Tensor:
        if tuple(ids) in self.probs:
            return torch.tensor(self.probs[tuple(ids)], dtype=torch.float64).log()
        return super().logits(ids)


def random_markov(seed: int, V: int, scale: float = 1.5, **kw) -> Markov:
    gen = torch.Generator().manual_seed(seed)
    return Markov(scale * torch.randn(V, V, generator=gen, dtype=torch.float64), **kw)


# The README's trap: 0 <s>, 1 A, 2 B, 3 <eos>. A is the likely first token, but everything
# after A is poor, while B is almost always followed by <eos>.
README_PROBS = torch.tensor(
    [
        [0.01, 0.50, 0.40, 0.09],  # after <s>
        [0.10, 0.32, 0.30, 0.28],  # after A
        [0.05, 0.05, 0.05, 0.85],  # after B
        [0.25, 0.25, 0.25, 0.25],  # after <eos> (never asked)
    ],
    dtype=torch.float64,
)


def readme_model(**kw) -> Markov:
    return Markov(README_PROBS.log(), **kw)


# ---------------------------------------------------------------------------- oracles


def total_logp(model: Model, prompt: list[int], new: list[int]) -> float:
    """The summed log-probability of the new tokens, in float64."""
    return sum(model.logp(prompt + new[:t])[token] for t, token in enumerate(new))


def best_first(pair):
    tokens, value = pair
    return -value, list(tokens)


def fragile(ranked, first: int, last: int) -> bool:
    """Whether rounding could swap two neighbours of `ranked` (best first) between positions
    first and last: values within 1e-9 of each other that are not an exact tie of siblings
    (two tokens after the same prefix, whose equal logits every implementation meets
    exactly). Such a case tests float rounding, not beam search: the oracles flag it."""
    start = max(first, 0)
    pairs = zip(ranked[start : last + 1], ranked[start + 1 : last + 2], strict=False)
    for (a, x), (b, y) in pairs:
        close = abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
        if close and not (x == y and len(a) == len(b) and list(a[:-1]) == list(b[:-1])):
            return True
    return False


def expected_greedy(model: Model, prompt: list[int], max_new_tokens: int, eos_id=None):
    """Greedy search with Python's max, which returns the first (lowest-id) maximum;
    and whether a near-tie decided a step."""
    new: list[int] = []
    near_tie = False
    for _ in range(max_new_tokens):
        row = sorted((([v], lp) for v, lp in enumerate(model.logp(prompt + new))), key=best_first)
        near_tie |= fragile(row, 0, 0)
        new += row[0][0]
        if new[-1] == eos_id:
            break
    return new, near_tie


def every_continuation(model: Model, prompt: list[int], max_new_tokens: int, eos_id=None):
    """Every continuation a search can finish with, and its summed log-probability: the
    ones that end in eos_id (and hold no other), and the ones of full length without it."""
    out: list[tuple[list[int], float]] = []

    def walk(new: list[int], total: float) -> None:
        if new and (new[-1] == eos_id or len(new) == max_new_tokens):
            out.append((new, total))
            return
        for token, lp in enumerate(model.logp(prompt + new)):
            walk([*new, token], total + lp)

    walk([], 0.0)
    return out


def brute_force(model: Model, prompt, max_new_tokens, eos_id=None, length_penalty=1.0):
    """Every continuation with its score, best first; and whether near-ties make the order
    fragile."""
    scored = [
        (new, total / len(new) ** length_penalty)
        for new, total in every_continuation(model, prompt, max_new_tokens, eos_id)
    ]
    scored.sort(key=best_first)
    return scored, fragile(scored, 0, len(scored))


def contract_beam(model: Model, prompt, width, max_new_tokens, eos_id=None, length_penalty=1.0):
    """The stub's four steps, transcribed with dicts from token tuples to totals; and
    whether a near-tie decided which candidates were kept or how the result is ordered."""
    if max_new_tokens == 0:
        return [([], 0.0)], False
    live, finished = {(): 0.0}, {}
    near_tie = False
    for _ in range(max_new_tokens):
        candidates = {
            (*new, token): total + lp
            for new, total in live.items()
            for token, lp in enumerate(model.logp(prompt + list(new)))
        }
        ranked = sorted(candidates.items(), key=best_first)
        near_tie |= fragile(ranked, width - 1, width - 1)
        kept = ranked[:width]
        live = {new: total for new, total in kept if new[-1] != eos_id}
        finished |= {new: total for new, total in kept if new[-1] == eos_id}
        if not live:
            break
    finished |= live
    scored = [(list(new), total / len(new) ** length_penalty) for new, total in finished.items()]
    scored.sort(key=best_first)
    return scored[:width], near_tie or fragile(scored, 0, width - 1)


# ---------------------------------------------------------------------------- checks


def describe(prompt, width, max_new_tokens, eos_id=None, length_penalty=1.0) -> str:
    return (
        f"beam_search(step, prompt={prompt}, beam_width={width}, max_new_tokens="
        f"{max_new_tokens}, eos_id={eos_id}, length_penalty={length_penalty})"
    )


def run(solution, model: Model, prompt, width, max_new_tokens, eos_id=None, length_penalty=1.0):
    """Call the solution; check the form of its answer, every score against a float64
    recomputation, the order, the prompt, and the sequences step was called with."""
    __tracebackhide__ = True
    call = describe(prompt, width, max_new_tokens, eos_id, length_penalty)
    before = list(prompt)
    result = solution.beam_search(model, prompt, width, max_new_tokens, eos_id, length_penalty)
    assert prompt == before, f"{call} changed the prompt list to {prompt}"

    assert type(result) is list and result, f"{call} returned {result!r}; expected a list"
    assert len(result) <= width, f"{call} returned {len(result)} hypotheses, more than {width}"
    for item in result:
        assert type(item) is tuple and len(item) == 2, (
            f"{call} returned {item!r} in its list; expected a pair (tokens, score)"
        )
        new, score = item
        assert type(new) is list and all(type(t) is int for t in new), (
            f"{call} returned the tokens {new!r}; expected a list of Python ints"
        )
        assert isinstance(score, float), (
            f"{call} returned the score {score!r} ({type(score).__name__}); expected a float"
        )
        check_tokens(new, model.V, max_new_tokens, eos_id, call)
    tokens = [new for new, _ in result]
    assert len({tuple(new) for new in tokens}) == len(tokens), (
        f"{call} returned the same continuation twice: {tokens}"
    )

    if max_new_tokens > 0:
        want = [total_logp(model, prompt, new) / len(new) ** length_penalty for new in tokens]
        got = torch.tensor([score for _, score in result], dtype=torch.float64)
        assert_close(
            got,
            torch.tensor(want, dtype=torch.float64),
            msg=lambda m: (
                f"{call} returned {result}; the scores should be the summed log-softmax "
                f"log-probabilities of the new tokens / len(new tokens) ** {length_penalty}, "
                f"which are {want}\n{m}"
            ),
            **tolerance(model.dtype),
        )
    scores = [score for _, score in result]
    assert scores == sorted(scores, reverse=True), (
        f"{call} returned {result}; expected the best score first"
    )
    check_calls(model, prompt, tokens, max_new_tokens, eos_id, call)
    return result


def check_tokens(new: list[int], V: int, max_new_tokens: int, eos_id, call: str) -> None:
    __tracebackhide__ = True
    if max_new_tokens == 0:
        assert new == [], f"{call} returned {new}; with no budget expected []"
        return
    assert all(0 <= t < V for t in new), f"{call} returned {new}: tokens outside [0, {V})"
    assert 1 <= len(new) <= max_new_tokens, (
        f"{call} returned {new}: {len(new)} new tokens (expected 1 to {max_new_tokens}; "
        "the new tokens only, not the prompt)"
    )
    assert eos_id not in new[:-1], f"{call} returned {new}: tokens after eos {eos_id}"
    assert len(new) == max_new_tokens or new[-1] == eos_id, (
        f"{call} returned {new}: shorter than {max_new_tokens} without ending in eos {eos_id}"
    )


def check_calls(model: Model, prompt, tokens, max_new_tokens, eos_id, call: str) -> None:
    __tracebackhide__ = True
    assert not model.bad_calls, (
        f"{call} called step with {model.bad_calls[0]}; expected a list of Python ints"
    )
    for ids in model.calls:
        new = ids[len(prompt) :]
        assert ids[: len(prompt)] == prompt and len(new) < max_new_tokens, (
            f"{call} called step({ids}); step should only see the prompt {prompt} followed "
            f"by fewer than {max_new_tokens} new tokens"
        )
        assert eos_id not in new, (
            f"{call} called step({ids}): a hypothesis that emitted eos {eos_id} is finished "
            "and must not be extended"
        )
    for new in tokens:
        for t in range(len(new)):
            assert prompt + new[:t] in model.calls, (
                f"{call} returned {new} without ever calling step({prompt + new[:t]})"
            )


def assert_ranking(result, want, call: str, **tol) -> None:
    """Same continuations in the same order, and the same scores."""
    __tracebackhide__ = True
    got_tokens, want_tokens = [n for n, _ in result], [n for n, _ in want]
    assert got_tokens == want_tokens, (
        f"{call} returned the continuations {got_tokens}; expected {want_tokens} (with scores "
        f"{[round(s, 4) for _, s in want]})"
    )
    assert_close(
        torch.tensor([s for _, s in result], dtype=torch.float64),
        torch.tensor([s for _, s in want], dtype=torch.float64),
        msg=lambda m: f"{call}: the scores differ from {want}\n{m}",
        **tol,
    )


def check_against(oracle, solution, model: Model, prompt, width, max_new_tokens, drawn=False, **kw):
    """Run the solution and compare its answer with an oracle's. A drawn case that a
    near-tie decides is skipped; a written one is a broken test."""
    __tracebackhide__ = True
    want, near_tie = oracle(model, prompt, width, max_new_tokens, **kw)
    if drawn:
        assume(not near_tie)
    assert not near_tie, "this test's model has near-ties: the test itself needs another seed"
    result = run(solution, model, prompt, width, max_new_tokens, **kw)
    assert_ranking(result, want, describe(prompt, width, max_new_tokens, **kw))
    return result


def full_width(model, prompt, width, max_new_tokens, eos_id=None, length_penalty=1.0):
    ranked, near_tie = brute_force(model, prompt, max_new_tokens, eos_id, length_penalty)
    return ranked[:width], near_tie


def width_one(model, prompt, width, max_new_tokens, eos_id=None, length_penalty=1.0):
    new, near_tie = expected_greedy(model, prompt, max_new_tokens, eos_id)
    return [(new, total_logp(model, prompt, new) / len(new) ** length_penalty)], near_tie


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    for width, want in [
        (1, [([1, 1], -0.9163)]),
        (2, [([2, 3], -0.5394), ([1, 1], -0.9163)]),
    ]:
        result = run(solution, readme_model(), [0], width, 2, eos_id=3)
        call = describe([0], width, 2, 3)
        assert [new for new, _ in result] == [new for new, _ in want], (
            f"{call} returned {result}; expected {want}"
        )
        for (_, score), (_, expected) in zip(result, want, strict=True):
            assert abs(score - expected) < 1e-4, f"{call} returned {result}; expected {want}"


# ---------------------------------------------------------------------------- widths


def test_a_beam_of_two_escapes_the_trap_that_catches_greedy_search(solution):
    model = readme_model()
    greedy, _ = expected_greedy(model, [0], 2, eos_id=3)
    best = brute_force(model, [0], 2, eos_id=3)[0][0][0]
    assert (greedy, best) == ([1, 1], [2, 3]), "the trap itself is broken"
    result = run(solution, model, [0], 2, 2, eos_id=3)
    assert result[0][0] == best, (
        f"{describe([0], 2, 2, 3)} returned {result}; expected {best} first, the best "
        "continuation of all: B is less likely than A, but <eos> almost surely follows it"
    )


WIDTH_ONE_CASES = {
    "markov": (lambda: random_markov(1, V=5), [2], 6, None),
    "markov-eos": (lambda: random_markov(2, V=4), [0], 8, 1),
    "prefix": (lambda: Prefix(V=4, seed=3), [1, 3], 5, None),
    "prefix-eos": (lambda: Prefix(V=3, seed=4), [2], 6, 0),
    "empty-prompt": (lambda: Prefix(V=4, seed=5), [], 4, 2),
}


@pytest.mark.parametrize("case", WIDTH_ONE_CASES.values(), ids=WIDTH_ONE_CASES.keys())
@pytest.mark.parametrize("length_penalty", [1.0, 0.0])
def test_beam_width_one_is_greedy_search(solution, case, length_penalty):
    make, prompt, max_new_tokens, eos_id = case
    kw = {"eos_id": eos_id, "length_penalty": length_penalty}
    check_against(width_one, solution, make(), prompt, 1, max_new_tokens, **kw)


@pytest.mark.parametrize("length_penalty", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("eos_id", [None, 1], ids=["no-eos", "eos"])
def test_a_beam_that_keeps_every_candidate_finds_the_brute_force_ranking(
    solution, eos_id, length_penalty
):
    model = Prefix(V=3, seed=6)
    width = len(every_continuation(model, [2, 0], 3, eos_id))
    check_against(
        full_width, solution, model, [2, 0], width, 3, eos_id=eos_id, length_penalty=length_penalty
    )


def test_a_beam_wider_than_the_number_of_continuations_returns_them_all(solution):
    model = random_markov(7, V=2)
    result = check_against(full_width, solution, model, [1], 10, 2)
    assert len(result) == 4, f"{describe([1], 10, 2)}: 2 ** 2 continuations, got {result}"


@pytest.mark.parametrize("width", [2, 3, 5])
@pytest.mark.parametrize("seed", range(3))
def test_widths_in_between_follow_the_contract_step_by_step(solution, seed, width):
    model = Prefix(V=4, seed=10 + seed)
    kw = {"eos_id": 2, "length_penalty": 0.5 + seed / 2}
    check_against(contract_beam, solution, model, [1, 3], width, 4, **kw)


def test_ties_go_to_the_lexicographically_smaller_continuation(solution):
    model = Markov(torch.zeros(3, 3))  # every token equally likely, always
    for length_penalty, per_token in [(1.0, 1), (0.0, 2)]:
        result = run(solution, model, [0], 4, 2, length_penalty=length_penalty)
        score = -per_token * math.log(3)
        want = [([0, 0], score), ([0, 1], score), ([0, 2], score), ([1, 0], score)]
        assert_ranking(result, want, describe([0], 4, 2, None, length_penalty))


# ---------------------------------------------------------------------------- eos


def test_a_hypothesis_ends_at_the_eos_it_emits(solution):
    model = Tree(3, {(1,): [0.2, 0.3, 0.5], (1, 1): [0.1, 0.1, 0.8], (1, 0): [0.6, 0.3, 0.1]})
    result = check_against(contract_beam, solution, model, [1], 3, 4, eos_id=2)
    assert [2] in [new for new, _ in result], f"{describe([1], 3, 4, 2)} returned {result}"


def test_eos_as_the_first_new_token(solution):
    model = Tree(3, {(0,): [0.05, 0.05, 0.9]})
    check_against(width_one, solution, model, [0], 1, 3, eos_id=2)
    result = check_against(contract_beam, solution, model, [0], 3, 3, eos_id=2)
    assert result[0][0] == [2], f"{describe([0], 3, 3, 2)} returned {result}; expected [2] first"


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_finished_hypothesis_frees_its_place_for_the_live_beams(solution, length_penalty):
    """a = 0, b = 1, <eos> = 2, width 2. Step 1 keeps [<eos>] (finished) and [a]; b is
    dropped although [b, <eos>] would be good. Step 2 keeps two extensions of [a], not
    [<eos>] again; step 3 finds [a, b, <eos>]."""
    model = Tree(
        3,
        {
            (0,): [0.3, 0.2, 0.5],
            (0, 0): [0.5, 0.4, 0.1],
            (0, 1): [0.005, 0.005, 0.99],
            (0, 0, 0): [0.36, 0.34, 0.30],
            (0, 0, 1): [0.03, 0.02, 0.95],
        },
    )
    kw = {"eos_id": 2, "length_penalty": length_penalty}
    result = check_against(contract_beam, solution, model, [0], 2, 3, **kw)
    assert [new for new, _ in result] == [[2], [0, 1, 2]]


def test_an_eos_the_model_never_favours_leaves_every_hypothesis_at_full_length(solution):
    model = Prefix(V=4, seed=15, bias=[0.0, 0.0, 0.0, -9.0])
    result = check_against(contract_beam, solution, model, [0], 3, 4, eos_id=3)
    assert all(len(new) == 4 for new, _ in result)


def test_without_eos_id_no_token_ends_a_hypothesis(solution):
    model = readme_model()  # token 3 is the README's <eos>, but eos_id is None here
    result = check_against(contract_beam, solution, model, [0], 3, 3)
    assert any(3 in new[:-1] for new, _ in result), f"{describe([0], 3, 3)} returned {result}"


# ---------------------------------------------------------------------------- length penalty


@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0, -0.5])
def test_the_length_penalty_divides_by_the_number_of_new_tokens_only(solution, length_penalty):
    model = Prefix(V=3, seed=8)
    kw = {"eos_id": 0, "length_penalty": length_penalty}
    result = check_against(contract_beam, solution, model, [1, 2, 2, 1, 2, 1], 4, 4, **kw)
    assert len({len(new) for new, _ in result}) > 1, "the case should mix lengths"


# ---------------------------------------------------------------------------- the budget


def test_a_budget_of_zero_gives_the_empty_continuation_with_score_zero(solution):
    result = run(solution, readme_model(), [0], 3, 0, eos_id=3)
    assert result == [([], 0.0)], f"{describe([0], 3, 0, 3)} returned {result}"


def test_a_budget_of_one_ranks_single_tokens_by_log_probability(solution):
    model = random_markov(9, V=6)
    result = check_against(contract_beam, solution, model, [4], 3, 1)
    logp = model.logp([4])
    want = sorted(range(6), key=lambda v: -logp[v])[:3]
    assert [new for new, _ in result] == [[v] for v in want]


def test_the_live_beams_finish_when_the_budget_is_spent(solution):
    result = check_against(contract_beam, solution, Prefix(V=4, seed=11), [3], 3, 5)
    assert len(result) == 3 and all(len(new) == 5 for new, _ in result)


# ---------------------------------------------------------------------------- numerics


def test_long_continuations_keep_exact_finite_scores(solution):
    """Fifty roughly equally likely tokens for forty steps: a product of probabilities is
    about 1e-68, below the smallest float32; summed log-probabilities are about -156."""
    model = Prefix(V=50, seed=12, scale=0.5)
    kw = {"length_penalty": 0.0}
    result = check_against(contract_beam, solution, model, [0], 3, 40, **kw)
    assert all(math.isfinite(score) for _, score in result)


def test_all_but_forbidden_tokens_keep_exact_log_probabilities(solution):
    """Logits 1000 below the best: their probability underflows to 0 even in float64, but
    their log-softmax is a finite number near -1000."""
    table = torch.tensor([[0.0, 0.5, -1000.0], [-1000.0, 0.3, 0.0], [1.0, -1500.0, 0.2]])
    model = Markov(table)
    width = len(every_continuation(model, [0], 2))
    check_against(full_width, solution, model, [0], width, 2)


# ---------------------------------------------------------------------------- prompt, calls


def test_the_prompt_is_left_unchanged_and_step_sees_only_live_beams(solution):
    prompt = [2, 1, 0]
    model = Prefix(V=3, seed=13)
    run(solution, model, prompt, 3, 4, eos_id=1)
    assert prompt == [2, 1, 0], f"beam_search changed the prompt list to {prompt}"


def test_an_empty_prompt_is_continued_from_the_empty_sequence(solution):
    check_against(contract_beam, solution, Prefix(V=4, seed=14), [], 3, 3, eos_id=0)


# ---------------------------------------------------------------------------- dtypes, devices

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
@pytest.mark.parametrize("device", DEVICES)
def test_logits_of_any_float_dtype_on_any_device(solution, device, dtype):
    """The README's trap, whose rankings are far apart: scores within the dtype's rounding."""
    model = readme_model(dtype=dtype, device=device)
    result = run(solution, model, [0], 3, 2, eos_id=3)
    want, _ = contract_beam(model, [0], 3, 2, eos_id=3)
    assert_ranking(result, want, describe([0], 3, 2, 3), **tolerance(dtype))


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("width", "max_new_tokens"), [(0, 3), (-1, 3), (2, -1)], ids=["width-0", "width-1", "budget"]
)
def test_a_width_below_one_or_a_negative_budget_raises_a_value_error(
    solution, width, max_new_tokens
):
    with pytest.raises(ValueError):
        solution.beam_search(readme_model(), [0], width, max_new_tokens, 3)


# ---------------------------------------------------------------------------- properties


@st.composite
def searches(draw):
    V = draw(st.integers(1, 4))
    whole_prefix = draw(st.booleans())
    prompt = draw(st.lists(st.integers(0, V - 1), min_size=0 if whole_prefix else 1, max_size=3))
    seed = draw(st.integers(0, 2**16))
    model = Prefix(V, seed) if whole_prefix else random_markov(seed, V)
    # deeper Markov chains tie: 0 -> 1 -> 0 -> 0 and 0 -> 0 -> 1 -> 0 make the same moves
    max_new_tokens = draw(st.integers(1, 3 if whole_prefix else 2))
    kw = {
        "eos_id": draw(st.none() | st.integers(0, V - 1)),
        "length_penalty": draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])),
    }
    return model, prompt, max_new_tokens, kw


@settings(max_examples=30)
@given(case=searches())
def test_drawn_models_with_a_width_that_keeps_everything_match_brute_force(solution, case):
    model, prompt, max_new_tokens, kw = case
    width = len(every_continuation(model, prompt, max_new_tokens, kw["eos_id"]))
    check_against(full_width, solution, model, prompt, width, max_new_tokens, drawn=True, **kw)


@settings(max_examples=30)
@given(case=searches(), width=st.integers(1, 6))
def test_drawn_models_and_widths_follow_the_contract(solution, case, width):
    model, prompt, max_new_tokens, kw = case
    oracle = width_one if width == 1 else contract_beam
    check_against(oracle, solution, model, prompt, width, max_new_tokens, drawn=True, **kw)
