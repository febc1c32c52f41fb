"""Tests for the greedy_search kata: argmax steps, eos, the budget, ties, the prompt, the calls.

The models are small hand-built or seeded tables written here: a Markov table whose logits
depend on the last token only, and a model whose logits depend on the whole prefix. The
oracle is a greedy loop written below with Python's max over float64 logits.
"""

from __future__ import annotations

import zlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES

INF = float("inf")


# ---------------------------------------------------------------------------- models


class Model:
    """A next-token model for the tests: `model(ids)` records the call and returns the logits.

    `logits(ids)` is the model itself, in float64 on the CPU (the oracle uses it, unrecorded);
    a call returns those logits cast to `dtype` and moved to `device`."""

    def __init__(self, dtype: torch.dtype = torch.float64, device: str = "cpu") -> None:
        self.dtype, self.device = dtype, device
        self.calls: list[list[int]] = []
        self.bad_calls: list[str] = []

    def logits(self, ids: list[int]) -> torch.Tensor:
        raise NotImplementedError

    def rounded(self, ids: list[int]) -> torch.Tensor:
        """The logits the solution sees (rounded to dtype), back in float64 on the CPU."""
        return self.logits(ids).to(self.dtype).to(torch.float64)

    def __call__(self, ids: list[int]) -> torch.Tensor:
        if type(ids) is not list or any(type(t) is not int for t in ids):
            self.bad_calls.append(f"{type(ids).__name__} {ids!r}")
        ids = [int(t) for t in ids]
        self.calls.append(ids)
        return self.logits(ids).to(self.dtype).to(self.device)


class Markov(Model):
    """Logits that depend on the last token only: table[ids[-1]] for a (V, V) table (the last
    row for an empty sequence)."""

    def __init__(self, table: torch.Tensor, **kw) -> None:
        super().__init__(**kw)
        self.table = table.to(torch.float64)
        self.V = table.shape[-1]

    def logits(self, ids: list[int]) -> torch.Tensor:
        return self.table[ids[-1] if ids else -1].clone()


class Prefix(Model):
    """Seeded standard-normal logits (V,) that depend on the whole sequence: two sequences
    with the same last token get unrelated logits."""

    def __init__(self, V: int, seed: int, **kw) -> None:
        super().__init__(**kw)
        self.V, self.seed = V, seed

    def logits(self, ids: list[int]) -> torch.Tensor:
        key = zlib.crc32(repr((self.seed, tuple(ids))).encode())
        gen = torch.Generator().manual_seed(key)
        return 2 * torch.randn(self.V, generator=gen, dtype=torch.float64)


def random_markov(seed: int, V: int, **kw) -> Markov:
    gen = torch.Generator().manual_seed(seed)
    return Markov(2 * torch.randn(V, V, generator=gen, dtype=torch.float64), **kw)


# the README's model: 0 <eos>, 1 "the", 2 "cat", 3 "sat"; rows are indexed by the last token
README_TABLE = torch.tensor(
    [
        [0.0, 3.0, 0.0, 0.0],  # after <eos>: "the"
        [0.1, 0.2, 2.0, 1.0],  # after "the": "cat"
        [0.5, 0.3, 0.1, 1.5],  # after "cat": "sat"
        [2.0, 1.0, 0.3, 0.2],  # after "sat": <eos>
    ],
    dtype=torch.float64,
)


# ---------------------------------------------------------------------------- oracle, checks


def expected_greedy(model: Model, prompt: list[int], max_new_tokens: int, eos_id=None):
    """Greedy decoding in float64 with Python's max, which returns the first maximum."""
    new: list[int] = []
    for _ in range(max_new_tokens):
        row = model.rounded(prompt + new).tolist()
        token = max(range(len(row)), key=row.__getitem__)
        new.append(token)
        if token == eos_id:
            break
    return new


def describe(prompt, max_new_tokens, eos_id) -> str:
    return f"greedy_search(step, prompt={prompt}, max_new_tokens={max_new_tokens}, eos_id={eos_id})"


def run(solution, model: Model, prompt: list[int], max_new_tokens: int, eos_id=None):
    """Call the solution and check that it returned a list of Python ints."""
    __tracebackhide__ = True
    call = describe(prompt, max_new_tokens, eos_id)
    new = solution.greedy_search(model, prompt, max_new_tokens, eos_id)
    assert type(new) is list, f"{call} returned {type(new).__name__}; expected a list of ints"
    bad = [t for t in new if type(t) is not int]
    assert not bad, (
        f"{call} returned {new!r}; expected Python ints (call .item() or int() on a tensor), "
        f"not {type(bad[0]).__name__}"
    )
    return new


def check(solution, model: Model, prompt: list[int], max_new_tokens: int, eos_id=None):
    """The solution's tokens equal the oracle's, and step only saw prompt + new[:i]."""
    __tracebackhide__ = True
    call = describe(prompt, max_new_tokens, eos_id)
    want = expected_greedy(model, prompt, max_new_tokens, eos_id)
    new = run(solution, model, prompt, max_new_tokens, eos_id)
    assert new == want, f"{call} returned {new}; expected {want}"
    check_calls(model, prompt, new, call)
    return new


def check_calls(model: Model, prompt: list[int], new: list[int], call: str) -> None:
    __tracebackhide__ = True
    assert not model.bad_calls, (
        f"{call} called step with {model.bad_calls[0]}; expected a list of Python ints"
    )
    allowed = [prompt + new[:i] for i in range(len(new) + 1)]
    for ids in model.calls:
        assert ids in allowed, (
            f"{call} returned {new} but called step({ids}); step should only see the prompt "
            f"followed by the tokens generated so far, one of {allowed}"
        )
    for ids in allowed[: len(new)]:
        assert ids in model.calls, (
            f"{call} returned {new} without calling step({ids}): every new token is the "
            "argmax of the logits of the sequence before it"
        )


# ---------------------------------------------------------------------------- the README


@pytest.mark.parametrize(
    ("max_new_tokens", "eos_id", "want"),
    [(5, 0, [2, 3, 0]), (5, None, [2, 3, 0, 1, 2]), (2, 0, [2, 3])],
    ids=["stops-at-eos", "no-eos", "budget-of-two"],
)
def test_the_readme_worked_example_gives_the_tokens_it_shows(
    solution, max_new_tokens, eos_id, want
):
    model = Markov(README_TABLE)
    new = run(solution, model, [1], max_new_tokens, eos_id)
    assert new == want, f"{describe([1], max_new_tokens, eos_id)} returned {new}; expected {want}"


# ---------------------------------------------------------------------------- argmax steps


@pytest.mark.parametrize("seed", range(5))
def test_each_new_token_is_the_argmax_for_the_sequence_so_far(solution, seed):
    check(solution, random_markov(seed, V=5), [seed % 5, 3], max_new_tokens=8)


@pytest.mark.parametrize("seed", range(3))
def test_a_model_that_reads_the_whole_sequence_sees_the_prompt_and_the_new_tokens(solution, seed):
    check(solution, Prefix(V=4, seed=seed), [2, 0, 3], max_new_tokens=6)


def test_an_empty_prompt_is_continued_from_the_empty_sequence(solution):
    new = check(solution, Prefix(V=5, seed=7), [], max_new_tokens=4)
    assert len(new) == 4


def test_huge_logits_need_no_softmax_to_find_the_argmax(solution):
    """exp(9000) overflows to inf even in float64: every token would look equally likely."""
    table = torch.tensor([[9000.0, 9001.0, 8999.0]]).expand(3, 3)
    new = check(solution, Markov(table), [0], max_new_tokens=3)
    assert new == [1, 1, 1]


def test_tokens_masked_with_minus_infinity_are_never_chosen(solution):
    table = torch.tensor(
        [
            [-INF, -INF, 0.5, -INF],
            [-INF, -INF, -INF, -3.0],
            [-INF, 2.0, 1.0, -INF],
            [-INF, -INF, -INF, 0.0],
        ]
    )
    new = check(solution, Markov(table), [0], max_new_tokens=4)
    assert new == [2, 1, 3, 3]


# ---------------------------------------------------------------------------- ties


def test_ties_go_to_the_lowest_token_id(solution):
    table = torch.tensor(
        [[0.0, 5.0, 5.0, 5.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 2.0, 0.0]]
    )
    new = check(solution, Markov(table), [3], max_new_tokens=3)
    assert new == [0, 1, 0], f"{describe([3], 3, None)} returned {new}; expected [0, 1, 0]"


# ---------------------------------------------------------------------------- eos


def test_generation_stops_right_after_eos_and_keeps_it(solution):
    new = check(solution, Markov(README_TABLE), [1], max_new_tokens=10, eos_id=0)
    assert new == [2, 3, 0], f"{describe([1], 10, 0)} returned {new}; expected [2, 3, 0]"


def test_eos_as_the_first_new_token_gives_just_eos(solution):
    new = check(solution, Markov(README_TABLE), [3], max_new_tokens=4, eos_id=0)
    assert new == [0], f"{describe([3], 4, 0)} returned {new}; expected [0]"


@pytest.mark.parametrize("seed", range(3))
def test_eos_in_the_middle_of_a_drawn_model_ends_the_output(solution, seed):
    model = random_markov(seed + 10, V=4)
    unstopped = expected_greedy(model, [1], 12)
    eos_id = unstopped[len(unstopped) // 2]  # a token greedy emits, so it stops early
    new = check(solution, model, [1], max_new_tokens=12, eos_id=eos_id)
    assert new[-1] == eos_id and eos_id not in new[:-1]


def test_without_eos_generation_runs_for_the_whole_budget(solution):
    new = check(solution, Markov(README_TABLE), [1], max_new_tokens=7, eos_id=None)
    assert new == [2, 3, 0, 1, 2, 3, 0], f"{describe([1], 7, None)} returned {new}"


def test_an_eos_that_is_never_the_argmax_leaves_the_whole_budget(solution):
    table = README_TABLE.clone()
    table[:, 3] = -5.0  # "sat" is never the most likely token: the model cycles the, cat, <eos>
    new = check(solution, Markov(table), [1], max_new_tokens=6, eos_id=3)
    assert new == [2, 0, 1, 2, 0, 1], f"{describe([1], 6, 3)} returned {new}"


def test_a_prompt_that_ends_in_eos_is_continued(solution):
    new = check(solution, Markov(README_TABLE), [2, 3, 0], max_new_tokens=5, eos_id=0)
    assert new == [1, 2, 3, 0], f"{describe([2, 3, 0], 5, 0)} returned {new}; expected [1, 2, 3, 0]"


# ---------------------------------------------------------------------------- the budget


@pytest.mark.parametrize("max_new_tokens", range(6))
def test_the_output_has_exactly_max_new_tokens_tokens_when_no_eos_comes(solution, max_new_tokens):
    new = check(solution, random_markov(3, V=6), [4], max_new_tokens)
    assert len(new) == max_new_tokens


def test_a_budget_of_zero_gives_an_empty_list(solution):
    new = run(solution, Markov(README_TABLE), [1], 0, 0)
    assert new == [], f"{describe([1], 0, 0)} returned {new}; expected []"


@pytest.mark.parametrize("max_new_tokens", [-1, -5])
def test_a_negative_budget_raises_a_value_error(solution, max_new_tokens):
    with pytest.raises(ValueError):
        solution.greedy_search(Markov(README_TABLE), [1], max_new_tokens, 0)


# ---------------------------------------------------------------------------- prompt, calls


def test_the_prompt_is_left_unchanged(solution):
    prompt = [1, 2, 0]
    run(solution, Prefix(V=4, seed=3), prompt, max_new_tokens=5)
    assert prompt == [1, 2, 0], f"greedy_search changed the prompt list to {prompt}"


def test_the_output_is_a_new_list_and_not_the_prompt_extended(solution):
    prompt = [1]
    new = run(solution, Markov(README_TABLE), prompt, 3, 0)
    assert new is not prompt and new == [2, 3, 0], (
        f"{describe([1], 3, 0)} returned {new}; expected the new tokens [2, 3, 0] only"
    )


def test_step_sees_the_prompt_followed_by_the_tokens_generated_so_far(solution):
    model = Prefix(V=5, seed=11)
    new = check(solution, model, [4, 4, 1], max_new_tokens=5)
    assert len(new) == 5


# ---------------------------------------------------------------------------- dtypes, devices

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
@pytest.mark.parametrize("device", DEVICES)
def test_logits_of_any_float_dtype_on_any_device_give_python_ints(solution, device, dtype):
    new = check(solution, Markov(README_TABLE, dtype=dtype, device=device), [1], 5, 0)
    assert new == [2, 3, 0]
    check(solution, random_markov(21, V=6, dtype=dtype, device=device), [5], 6)


# ---------------------------------------------------------------------------- properties


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**16),
    V=st.integers(1, 6),
    whole_prefix=st.booleans(),
    data=st.data(),
)
def test_drawn_models_prompts_budgets_and_eos_match_the_oracle(
    solution, seed, V, whole_prefix, data
):
    model = Prefix(V, seed) if whole_prefix else random_markov(seed, V)
    min_len = 0 if whole_prefix else 1
    prompt = data.draw(st.lists(st.integers(0, V - 1), min_size=min_len, max_size=4), "prompt")
    max_new_tokens = data.draw(st.integers(0, 8), "max_new_tokens")
    eos_id = data.draw(st.none() | st.integers(0, V - 1), "eos_id")
    before = list(prompt)
    check(solution, model, prompt, max_new_tokens, eos_id)
    assert prompt == before, f"greedy_search changed the prompt list {before} to {prompt}"
