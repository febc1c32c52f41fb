"""Tests for the linear_regression_sgd kata.

Oracles: the stub's SGD loop and plain gradient descent, written out here step by step in
float64; np.linalg.lstsq for the least-squares solution that SGD must converge to; and
hand-worked steps. Every draw is seeded.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close

# --- helpers: oracles, data, checks ----------------------------------------------------------


def sgd_written_out(
    X: np.ndarray, y: np.ndarray, lr: float, epochs: int, batch_size: int, seed: int
) -> tuple[np.ndarray, float]:
    """The stub's contract, one sample at a time: per-sample gradients summed over the
    batch, then divided by the batch's own size."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            grad_w, grad_b = np.zeros(d), 0.0
            for i in batch:
                r = X[i] @ w + b - y[i]
                grad_w += 2 * r * X[i]
                grad_b += 2 * r
            w, b = w - lr * grad_w / len(batch), b - lr * grad_b / len(batch)
    return w, b


def gradient_descent(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple:
    """Full-batch gradient descent on mean((Xw + b - y)²), from zeros."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        r = X @ w + b - y
        w, b = w - lr * 2 * X.T @ r / len(y), b - lr * 2 * r.mean()
    return w, b


def regression_data(seed: int, n: int, d: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Well-conditioned standard-normal features and y = X w* + b* + noise, all O(1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.uniform(-2, 2, size=d) + rng.uniform(-1, 1) + noise * rng.normal(size=n)
    return X, y


def least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    theta = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), y, rcond=None)[0]
    return theta[:-1], float(theta[-1])


def assert_fit(
    result: object, expected: tuple[np.ndarray, float], call: str, **tolerances: float
) -> None:
    __tracebackhide__ = True
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{call} should return a tuple (w, b), got {result!r}"
    )
    w, b = result
    assert isinstance(w, np.ndarray), (
        f"w of {call} is a {type(w).__name__}, expected a (D,) float64 np.ndarray"
    )
    assert isinstance(b, float), f"b of {call} is a {type(b).__name__}, expected a Python float"
    assert_close(w, expected[0], msg=lambda m: f"w of {call}: {m}", **tolerances)
    assert_close(
        np.float64(b), np.float64(expected[1]), msg=lambda m: f"b of {call}: {m}", **tolerances
    )


# exact up to the order of floating-point sums: a loop, a matmul and einsum all agree
EXACT = {"rtol": 1e-10, "atol": 1e-12}

EXAMPLE_X = np.array([[1.0, 2.0], [2.0, 0.0], [0.0, 1.0]])
EXAMPLE_Y = np.array([3.0, 2.0, 1.0])


# --- the README's worked example -------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch_size", "w", "b"),
    [
        pytest.param(3, [0.7 / 1.5, 0.7 / 1.5], 0.4, id="one_full_batch"),
        pytest.param(1, [0.624, 1.16], 0.752, id="three_single_samples"),
        pytest.param(2, [0.7, 0.7], 0.6, id="a_pair_then_a_partial_batch"),
    ],
)
def test_the_readme_worked_example_holds(solution, batch_size, w, b):
    # np.random.default_rng(0).permutation(3) is [2, 0, 1]
    result = solution.sgd_linear_regression(
        EXAMPLE_X, EXAMPLE_Y, lr=0.1, epochs=1, batch_size=batch_size, seed=0
    )
    call = f"sgd_linear_regression(X, y, lr=0.1, epochs=1, batch_size={batch_size}, seed=0)"
    assert_fit(result, (np.array(w), b), call, **EXACT)


def test_one_step_on_one_sample_is_minus_lr_times_2_r_x(solution):
    # r = 0 - 3 = -3: w = -0.1 * 2 * (-3) * [2, -1] = [1.2, -0.6], b = -0.1 * 2 * (-3) = 0.6
    X, y = np.array([[2.0, -1.0]]), np.array([3.0])
    result = solution.sgd_linear_regression(X, y, lr=0.1, epochs=1)
    call = "sgd_linear_regression(X=[[2, -1]], y=[3], lr=0.1, epochs=1)"
    assert_fit(result, (np.array([1.2, -0.6]), 0.6), call, **EXACT)


# --- the steps, exactly ----------------------------------------------------------------------

CASES = [
    # (N, D, batch_size, epochs, lr)
    pytest.param(12, 3, 1, 3, 0.05, id="N=12_batch=1_3_epochs"),
    pytest.param(12, 3, 4, 4, 0.1, id="N=12_batch=4_4_epochs"),
    pytest.param(10, 2, 3, 4, 0.1, id="N=10_batch=3_partial_4_epochs"),
    pytest.param(7, 4, 5, 3, 0.1, id="N=7_batch=5_partial_3_epochs"),
    pytest.param(9, 3, 9, 3, 0.1, id="N=9_full_batch_3_epochs"),
    pytest.param(6, 2, 20, 2, 0.1, id="N=6_batch_larger_than_N"),
]


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize(("n", "d", "batch_size", "epochs", "lr"), CASES)
def test_every_step_matches_sgd_written_out(solution, n, d, batch_size, epochs, lr, seed):
    X, y = regression_data(seed=1, n=n, d=d)
    result = solution.sgd_linear_regression(X, y, lr, epochs, batch_size, seed)
    expected = sgd_written_out(X, y, lr, epochs, batch_size, seed)
    call = (
        f"sgd_linear_regression(X of shape {(n, d)}, y, lr={lr}, epochs={epochs}, "
        f"batch_size={batch_size}, seed={seed})"
    )
    hint = (
        "one rng = default_rng(seed), a new rng.permutation(N) every epoch, batches in that "
        "order, the last one shorter, gradients 2/|B| X^T r and 2/|B| sum(r)"
    )
    assert_fit(result, expected, f"{call} ({hint})", **EXACT)


def test_the_last_partial_batch_is_used_and_averaged_over_its_own_size(solution):
    # N = 5, batch_size = 2: batches of 2, 2 and 1 sample in each epoch
    X, y = regression_data(seed=2, n=5, d=2)
    for epochs in (1, 2):
        result = solution.sgd_linear_regression(X, y, lr=0.1, epochs=epochs, batch_size=2)
        expected = sgd_written_out(X, y, 0.1, epochs, 2, seed=0)
        call = f"sgd_linear_regression(X of shape (5, 2), y, lr=0.1, epochs={epochs}, batch_size=2)"
        hint = "3 steps per epoch; the last batch holds 1 sample, so its gradient is 2 r x"
        assert_fit(result, expected, f"{call} ({hint})", **EXACT)


@pytest.mark.parametrize("epochs", [1, 2, 3, 5])
def test_batch_size_n_is_plain_gradient_descent_step_by_step(solution, epochs):
    X, y = regression_data(seed=3, n=16, d=3)
    result = solution.sgd_linear_regression(X, y, lr=0.1, epochs=epochs, batch_size=16, seed=4)
    call = f"sgd_linear_regression(X of shape (16, 3), y, lr=0.1, epochs={epochs}, batch_size=16)"
    hint = f"{epochs} steps of full-batch gradient descent from zeros"
    assert_fit(result, gradient_descent(X, y, 0.1, epochs), f"{call} ({hint})", **EXACT)


@settings(max_examples=30)
@given(
    n=st.integers(1, 20),
    d=st.integers(1, 5),
    batch_size=st.integers(1, 25),
    epochs=st.integers(0, 4),
    lr=st.floats(0.001, 0.05),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_shape_and_batch_size_matches_sgd_written_out(
    solution, n, d, batch_size, epochs, lr, seed
):
    X, y = regression_data(seed=seed % 1000, n=n, d=d)
    result = solution.sgd_linear_regression(X, y, lr, epochs, batch_size, seed)
    expected = sgd_written_out(X, y, lr, epochs, batch_size, seed)
    call = (
        f"sgd_linear_regression(X of shape {(n, d)}, y, lr={lr}, epochs={epochs}, "
        f"batch_size={batch_size}, seed={seed})"
    )
    assert_fit(result, expected, call, **EXACT)


# --- convergence -----------------------------------------------------------------------------


def test_sgd_on_one_sample_at_a_time_converges_to_the_exact_least_squares_fit(solution):
    X, y = regression_data(seed=5, n=100, d=3, noise=0.0)  # y is exactly linear in X
    result = solution.sgd_linear_regression(X, y, lr=0.05, epochs=30, batch_size=1)
    call = "sgd_linear_regression(X of shape (100, 3), noise-free y, lr=0.05, epochs=30)"
    assert_fit(result, least_squares(X, y), f"{call} vs np.linalg.lstsq", rtol=0, atol=1e-8)


def test_mini_batch_sgd_on_noisy_data_ends_near_the_least_squares_fit(solution):
    X, y = regression_data(seed=6, n=200, d=3, noise=0.3)
    result = solution.sgd_linear_regression(X, y, lr=0.05, epochs=100, batch_size=20)
    call = "sgd_linear_regression(X of shape (200, 3), noisy y, lr=0.05, epochs=100, batch_size=20)"
    # a constant step leaves SGD jittering around the optimum, here by about 0.005
    assert_fit(result, least_squares(X, y), f"{call} vs np.linalg.lstsq", rtol=0, atol=0.03)


# --- the seed --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_result_and_another_seed_another_path(solution):
    X, y = regression_data(seed=7, n=20, d=3)
    call = "sgd_linear_regression(X of shape (20, 3), y, lr=0.02, epochs=2, seed={})"
    first = solution.sgd_linear_regression(X, y, lr=0.02, epochs=2, seed=0)
    again = solution.sgd_linear_regression(X, y, lr=0.02, epochs=2, seed=0)
    assert np.array_equal(first[0], again[0]) and first[1] == again[1], (
        f"{call.format(0)} gave {first} and then {again}: the same seed must give the same "
        "result (use np.random.default_rng(seed), not the global np.random)"
    )
    other = solution.sgd_linear_regression(X, y, lr=0.02, epochs=2, seed=1)
    distance = float(np.abs(np.append(first[0] - other[0], first[1] - other[1])).max())
    assert distance > 1e-4, (
        f"{call.format(0)} and {call.format(1)} differ by only {distance:.2e}: the seed "
        "must choose the order of the samples (rng.permutation(N) every epoch)"
    )


# --- types, shapes, edge cases ---------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 4])
def test_zero_epochs_return_the_starting_zeros(solution, d):
    X, y = regression_data(seed=8, n=6, d=d)
    result = solution.sgd_linear_regression(X, y, epochs=0)
    call = f"sgd_linear_regression(X of shape (6, {d}), y, epochs=0)"
    assert_fit(result, (np.zeros(d), 0.0), call, rtol=0, atol=0)


def test_integer_inputs_give_float64_weights_and_a_float_bias(solution):
    X, y = np.array([[1, 2], [2, 0], [0, 1]]), np.array([3, 2, 1])
    result = solution.sgd_linear_regression(X, y, lr=0.1, epochs=2, batch_size=2, seed=3)
    expected = sgd_written_out(X.astype(float), y.astype(float), 0.1, 2, 2, seed=3)
    call = "sgd_linear_regression(X of int64, y of int64, lr=0.1, epochs=2, batch_size=2)"
    assert_fit(result, expected, call, **EXACT)


def test_the_inputs_are_left_unchanged(solution):
    X, y = regression_data(seed=9, n=8, d=2)
    X_before, y_before = X.copy(), y.copy()
    solution.sgd_linear_regression(X, y, lr=0.1, epochs=3, batch_size=3)
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before), (
        "sgd_linear_regression(X, y, ...) changed X or y in place; leave the inputs alone"
    )
