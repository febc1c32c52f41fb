"""Tests for the auc kata: ROC AUC against a brute force over every positive/negative pair.

The oracle is that definition, counted in the test: 1 per pair where the positive scores
higher, 1/2 per tie. AUC values are in [0, 1] and the cases below are built so that the
answers are spread over it (0, 0.5, 1 and values in between); every draw is seeded.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

EXACT = 1e-12  # the AUC is a ratio of counts: any correct method gets it to rounding


# ---------------------------------------------------------------------------- helpers


def brute_force_auc(y_true, y_score) -> float:
    """The definition, O(P * N): every positive against every negative, a tie counts 1/2."""
    labels = np.asarray(y_true).tolist()
    scores = np.asarray(y_score).tolist()
    positives = [s for y, s in zip(labels, scores, strict=True) if y]
    negatives = [s for y, s in zip(labels, scores, strict=True) if not y]
    twice_won = sum(2 if p > n else 1 if p == n else 0 for p in positives for n in negatives)
    return twice_won / (2 * len(positives) * len(negatives))


def histogram_auc(y_true: np.ndarray, codes: np.ndarray) -> float:
    """The same count for non-negative integer scores, O(n + max code): per score value,
    the positives there beat every negative below and tie with the negatives there."""
    pos = np.bincount(codes[y_true == 1], minlength=codes.max() + 1)
    neg = np.bincount(codes[y_true == 0], minlength=codes.max() + 1)
    neg_below = np.cumsum(neg) - neg
    twice_won = int((pos * (2 * neg_below + neg)).sum())
    return twice_won / (2 * int(pos.sum()) * int(neg.sum()))


def assert_auc(result: object, expected: float, call: str) -> None:
    __tracebackhide__ = True
    assert isinstance(result, float), (
        f"{call} returned {type(result).__name__}; expected a Python float"
    )
    assert abs(result - expected) <= EXACT, f"{call} should be {expected!r}, got {result!r}"


def shuffled(rng: np.random.Generator, y: np.ndarray, s: np.ndarray):
    order = rng.permutation(len(y))
    return y[order], s[order]


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_holds(solution):
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    assert_auc(solution.roc_auc(y, s), 0.75, "roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])")
    y, s = np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.9])
    assert_auc(
        solution.roc_auc(y, s),
        0.875,
        "roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) (the tie at 0.5 counts 1/2)",
    )


def test_the_inputs_are_not_modified(solution):
    rng = np.random.default_rng(7)
    s = rng.integers(0, 10, 40).astype(np.float64)
    y = (rng.random(40) < 0.5).astype(np.int64)
    y_before, s_before = y.copy(), s.copy()
    solution.roc_auc(y, s)
    assert np.array_equal(y, y_before) and np.array_equal(s, s_before), (
        "roc_auc(y_true, y_score) modified its inputs; sort a copy (np.argsort, np.sort), "
        "never the caller's arrays"
    )


# ---------------------------------------------------------------------------- landmarks


@pytest.mark.parametrize(("n_pos", "n_neg"), [(1, 1), (3, 5), (40, 7)])
def test_a_perfect_ranking_gives_one_and_the_reverse_gives_zero(solution, n_pos, n_neg):
    rng = np.random.default_rng(n_pos + 10 * n_neg)
    y = np.array([1] * n_pos + [0] * n_neg)
    s = np.concatenate([rng.uniform(1.0, 2.0, n_pos), rng.uniform(-1.0, 0.5, n_neg)])
    y, s = shuffled(rng, y, s)
    what = f"{n_pos} positives all scoring above {n_neg} negatives (shuffled)"
    assert_auc(solution.roc_auc(y, s), 1.0, f"roc_auc for {what}")
    assert_auc(solution.roc_auc(y, -s), 0.0, f"roc_auc with the scores negated, for {what}")


@pytest.mark.parametrize(
    ("n_pos", "n_neg", "score"), [(1, 1, 0.3), (3, 7, -2.0), (50, 2, 7), (4, 4, 0.0)]
)
def test_all_tied_scores_give_one_half(solution, n_pos, n_neg, score):
    y = np.array([0, 1] * min(n_pos, n_neg) + [1] * (n_pos - n_neg) + [0] * (n_neg - n_pos))
    s = np.full(len(y), score)
    call = f"roc_auc(y with {n_pos} positives and {n_neg} negatives, every score {score})"
    assert_auc(solution.roc_auc(y, s), 0.5, call)


def test_ties_count_one_half_whatever_the_order_of_the_samples(solution):
    # positives score 0, 1, 1 and negatives 1, 1, 2: 0 won, 4 tied, 5 lost of 9 pairs
    s = np.array([1.0, 1.0, 2.0, 0.0, 1.0, 1.0])
    y = np.array([1, 1, 0, 1, 0, 0])
    for order in ([0, 1, 2, 3, 4, 5], [4, 5, 0, 1, 3, 2], [2, 4, 0, 5, 1, 3]):
        call = f"roc_auc({y[order].tolist()}, {s[order].tolist()})"
        assert_auc(solution.roc_auc(y[order], s[order]), 2 / 9, call)


# ---------------------------------------------------------------------------- the oracle


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_values", [2, 5, 30])
def test_integer_scores_with_many_ties_match_the_brute_force(solution, seed, n_values):
    rng = np.random.default_rng(100 * n_values + seed)
    n = 300
    s = rng.integers(0, n_values, n)  # (n,) int64, every value repeated many times
    y = (rng.random(n) < (s + 1) / (n_values + 1)).astype(np.int64)  # AUC well above 1/2
    expected = brute_force_auc(y, s)
    call = f"roc_auc(y, integer scores in [0, {n_values}) with many ties) (seed {seed})"
    assert_auc(solution.roc_auc(y, s), expected, call)


score_lists = st.one_of(
    st.lists(st.integers(-3, 3), min_size=2, max_size=40),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=2, max_size=40),
)


@settings(max_examples=60)
@given(scores=score_lists, data=st.data())
def test_the_auc_matches_the_brute_force_over_all_pairs(solution, scores, data):
    n = len(scores)
    n_pos = data.draw(st.integers(1, n - 1), label="n_pos")
    order = data.draw(st.permutations(range(n)), label="order")
    y = np.array([1] * n_pos + [0] * (n - n_pos))[order]
    s = np.array(scores)
    expected = brute_force_auc(y, s)
    call = f"roc_auc({y.tolist()}, {s.tolist()})"
    assert_auc(solution.roc_auc(y, s), expected, call)


TRANSFORMS = {
    "3s - 7": lambda s: 3 * s - 7,
    "s**3": lambda s: s**3,
    "exp(s / 4)": lambda s: np.exp(s / 4),
    "sigmoid(s / 5)": lambda s: 1 / (1 + np.exp(-s / 5)),
    "arctan(s) + 100": lambda s: np.arctan(s) + 100,
}


@settings(max_examples=40)
@given(
    scores=st.lists(st.integers(-20, 20), min_size=2, max_size=40),
    data=st.data(),
    name=st.sampled_from(sorted(TRANSFORMS)),
)
def test_a_strictly_increasing_transform_of_the_scores_changes_nothing(
    solution, scores, data, name
):
    n = len(scores)
    labels = data.draw(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda ls: 0 < sum(ls) < n),
        label="labels",
    )
    y, s = np.array(labels), np.array(scores)
    expected = brute_force_auc(y, s)
    assert_auc(solution.roc_auc(y, s), expected, f"roc_auc({labels}, {scores})")
    transformed = TRANSFORMS[name](s)
    assert_auc(
        solution.roc_auc(y, transformed),
        expected,
        f"roc_auc({labels}, {name} for s = {scores}), as for s itself",
    )


@pytest.mark.parametrize("seed", range(3))
def test_swapping_the_labels_or_negating_the_scores_gives_one_minus_the_auc(solution, seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 8, 60).astype(np.float64)
    y = (rng.random(60) < (s + 1) / 9).astype(np.int64)
    auc = brute_force_auc(y, s)
    assert_auc(solution.roc_auc(1 - y, s), 1 - auc, f"roc_auc(1 - y, s) for AUC(y, s) = {auc}")
    assert_auc(solution.roc_auc(y, -s), 1 - auc, f"roc_auc(y, -s) for AUC(y, s) = {auc}")


# ---------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "dtype", [np.int64, np.int8, np.float64, np.float32, bool], ids=lambda d: np.dtype(d).name
)
def test_labels_may_be_booleans_integers_or_floats(solution, dtype):
    rng = np.random.default_rng(5)
    s = rng.normal(size=50)
    y = (rng.random(50) < 1 / (1 + np.exp(-2 * s))).astype(np.int64)
    expected = brute_force_auc(y, s)
    call = f"roc_auc(y as {np.dtype(dtype).name}, s)"
    assert_auc(solution.roc_auc(y.astype(dtype), s), expected, call)


@pytest.mark.parametrize(
    "dtype", [np.int32, np.float32, np.float64], ids=lambda d: np.dtype(d).name
)
def test_scores_of_any_numeric_dtype_are_compared_exactly(solution, dtype):
    rng = np.random.default_rng(6)
    s = rng.integers(-4, 5, 80).astype(dtype)
    y = (rng.random(80) < 0.4).astype(np.int64)
    expected = brute_force_auc(y, s)
    call = f"roc_auc(y, scores as {np.dtype(dtype).name} with ties)"
    assert_auc(solution.roc_auc(y, s), expected, call)


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "y",
    [[0, 0, 0, 0], [1, 1, 1, 1], [True, True, True, True], []],
    ids=["only_negatives", "only_positives", "only_true", "empty"],
)
def test_a_single_class_raises_value_error(solution, y):
    y = np.array(y)
    s = np.linspace(0.0, 1.0, len(y))
    with pytest.raises(ValueError):
        solution.roc_auc(y, s)


@pytest.mark.parametrize(
    "y", [[0, 1, 2, 1], [-1, 1, -1, 1], [0.0, 0.5, 1.0, 1.0]], ids=["two", "minus_one", "half"]
)
def test_labels_other_than_zero_and_one_raise_value_error(solution, y):
    y = np.array(y)
    s = np.array([0.1, 0.4, 0.35, 0.8])
    with pytest.raises(ValueError):
        solution.roc_auc(y, s)


@pytest.mark.parametrize("n_scores", [3, 5], ids=["fewer_scores", "more_scores"])
def test_lengths_that_differ_raise_value_error(solution, n_scores):
    y = np.array([0, 1, 0, 1])
    s = np.linspace(0.0, 1.0, n_scores)
    with pytest.raises(ValueError):
        solution.roc_auc(y, s)


# ---------------------------------------------------------------------------- speed


@pytest.mark.speed
@pytest.mark.timeout(5)
def test_two_hundred_thousand_samples_take_a_fraction_of_a_second(solution):
    """Comparing every positive with every negative (10^10 pairs here) cannot finish in time:
    sort the scores once and count with ranks or a sweep over thresholds, O(n log n)."""
    rng = np.random.default_rng(8)
    n = 200_000
    z = rng.standard_normal(n)
    codes = np.round(z * 1e5).astype(np.int64)  # ~150,000 distinct scores, some tied
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * z))).astype(np.int64)
    s = codes / 1e5
    expected = histogram_auc(y, codes - codes.min())
    call = "roc_auc(y, s) for 200,000 samples"
    assert_auc(solution.roc_auc(y, s), expected, call)
