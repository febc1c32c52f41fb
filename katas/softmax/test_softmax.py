"""Tests for the softmax kata: values along every axis, stability, shift invariance, dtypes.

The oracle is torch.softmax / torch.log_softmax in float64 on the same values; every draw
is seeded. Softmax outputs are probabilities, so each test also checks that slices sum to
1: no tolerance lets an all-zeros answer through.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close, tolerance

FUNCTIONS = ["softmax", "log_softmax"]
INF = float("inf")


# ---------------------------------------------------------------------------- helpers


def oracle(name: str, x: np.ndarray, axis: int) -> np.ndarray:
    """torch's softmax or log_softmax, computed in float64 and returned in x's dtype."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    fn = torch.softmax if name == "softmax" else torch.log_softmax
    return fn(t, dim=axis).numpy().astype(x.dtype)


def check(solution, name: str, x: np.ndarray, axis: int, what: str, **tolerances) -> np.ndarray:
    """Call solution.<name>(x, axis=axis) and compare it with torch's answer."""
    __tracebackhide__ = True
    call = f"{name}({what}, axis={axis})"
    result = getattr(solution, name)(x, axis=axis)
    assert isinstance(result, np.ndarray), (
        f"{call} returned {type(result).__name__}, expected a numpy array"
    )
    expected = oracle(name, x, axis)
    assert_close(result, expected, **tolerances, msg=lambda m: f"{call}: {m}")
    return result


def sums_to_one(p: np.ndarray, axis: int) -> bool:
    return bool(np.allclose(p.sum(axis=axis), 1.0, rtol=0, atol=1e-12))


def slice_shifts(rng: np.random.Generator, shape: tuple[int, ...], axis: int, size: float):
    """One constant per slice along axis: shape with the axis's size set to 1."""
    shift_shape = list(shape)
    shift_shape[axis] = 1
    return rng.uniform(-size, size, size=shift_shape)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_holds(solution):
    x = np.array([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0], [1000.0, 1001.0, 1002.0]])
    row = [0.09003057, 0.24472847, 0.66524096]
    third = 1 / 3
    assert_close(
        solution.softmax(x),
        np.array([row, [third, third, third], row]),
        rtol=0,
        atol=1e-8,
        msg=lambda m: f"softmax([[0, 1, 2], [3, 3, 3], [1000, 1001, 1002]]) (axis=-1): {m}",
    )
    assert_close(
        solution.softmax(np.log(np.array([[1.0, 1.0], [3.0, 1.0]])), axis=0),
        np.array([[0.25, 0.5], [0.75, 0.5]]),
        rtol=0,
        atol=1e-12,
        msg=lambda m: f"softmax(log([[1, 1], [3, 1]]), axis=0), columns summing to 1: {m}",
    )
    assert_close(
        solution.log_softmax(np.array([0.0, 1.0, 2.0])),
        np.array([-2.40760596, -1.40760596, -0.40760596]),
        rtol=0,
        atol=1e-8,
        msg=lambda m: f"log_softmax([0, 1, 2]): {m}",
    )
    assert_close(
        solution.log_softmax(np.array([0.0, -1e4])),
        np.array([0.0, -1e4]),
        rtol=0,
        atol=1e-12,
        msg=lambda m: f"log_softmax([0, -1e4]) must be finite, not log(0) = -inf: {m}",
    )


# ---------------------------------------------------------------------------- values


SHAPES = [(7,), (3, 5), (4, 3, 2), (2, 3, 1, 4)]
SHAPE_AXES = [
    pytest.param(shape, axis, id=f"{'x'.join(map(str, shape))}-axis{axis}")
    for shape in SHAPES
    for axis in range(-len(shape), len(shape))
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("shape", "axis"), SHAPE_AXES)
def test_values_match_torch_along_every_axis(solution, name, shape, axis):
    rng = np.random.default_rng(sum(shape) + 10 * axis + 100)
    x = 3 * rng.standard_normal(shape)
    result = check(solution, name, x, axis, f"x of shape {shape}")
    if name == "softmax":
        assert sums_to_one(result, axis), (
            f"softmax(x of shape {shape}, axis={axis}) does not sum to 1 along axis {axis}: "
            f"sums {result.sum(axis=axis)}"
        )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_1d_input_is_one_distribution(solution, name):
    x = np.array([2.0, -1.0, 0.5, 0.0, 3.0])
    check(solution, name, x, -1, "x = [2, -1, 0.5, 0, 3]")
    check(solution, name, x, 0, "x = [2, -1, 0.5, 0, 3]")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_strided_views_are_handled(solution, name):
    rng = np.random.default_rng(1)
    base = 2 * rng.standard_normal((6, 8))
    check(solution, name, base.T, -1, "x.T (a transposed view)")
    check(solution, name, base[::2, 1::3], 0, "x[::2, 1::3] (a strided view)")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_minus_inf_entries_get_zero_probability(solution, name):
    x = np.array([[0.0, -INF, 1.0], [-INF, -INF, 2.0], [-INF, 5.0, 5.0]])
    result = check(solution, name, x, -1, "x with -inf entries (masked logits)")
    check(solution, name, x, 0, "x with -inf entries (masked logits)")
    assert not np.isnan(result).any(), f"{name}(x with -inf entries) has nan: {result}"


# ---------------------------------------------------------------------------- stability


# logits of order 1e4: a naive exp overflows in row 0, underflows in row 1; row 2 mixes both
LARGE = np.array(
    [
        [1e4, 1e4 - 1, 1e4 - 2, -1e4],
        [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3],
        [0.0, 1e4, -1e4, 5e3],
    ]
)


# float32 holds numbers near 1e4 only to about 1e-3: x - logsumexp(x) formed directly (a
# right answer in float64) is off by that much, so float32 is held to its input's rounding
LARGE_TOLERANCES = {
    np.float64: {"rtol": 1e-7, "atol": 1e-7},
    np.float32: {"rtol": 1e-5, "atol": 2e-3},
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", list(LARGE_TOLERANCES), ids=["float64", "float32"])
@pytest.mark.parametrize("transposed", [False, True], ids=["rows", "columns"])
def test_logits_of_1e4_give_finite_exact_results(solution, name, dtype, transposed):
    x = (LARGE.T if transposed else LARGE).astype(dtype)
    axis = 0 if transposed else -1
    what = f"x with |x| up to 1e4 in {np.dtype(dtype).name}"
    result = getattr(solution, name)(x, axis=axis)
    assert np.isfinite(result).all(), (
        f"{name}({what}, axis={axis}) is not finite: {result}; subtract each slice's "
        "maximum before exp, and take the log of a sum that is at least 1"
    )
    check(solution, name, x, axis, what, **LARGE_TOLERANCES[dtype])


def test_slices_far_apart_are_each_normalised_on_their_own(solution):
    rng = np.random.default_rng(2)
    # rows around -800, 0 and 800: exp(x - global max) underflows to 0 in the first two
    x = rng.standard_normal((3, 5)) + np.array([[-800.0], [0.0], [800.0]])
    for name in FUNCTIONS:
        check(solution, name, x, -1, "rows around -800, 0 and 800")
        check(solution, name, x.T, 0, "columns around -800, 0 and 800")


@settings(max_examples=30)
@given(
    ndim=st.integers(1, 4),
    data=st.data(),
    scale=st.floats(0.1, 50.0),
    size=st.floats(0.0, 1000.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_adding_a_constant_along_the_axis_changes_nothing(solution, ndim, data, scale, size, seed):
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    shifted = x + slice_shifts(rng, shape, axis, size)
    for name in FUNCTIONS:
        call = f"{name}(x + c, axis={axis}) for x of shape {shape} and c constant along the axis"
        result = getattr(solution, name)(shifted, axis=axis)
        assert_close(result, oracle(name, x, axis), msg=lambda m, call=call: f"{call}: {m}")


# ---------------------------------------------------------------------------- properties


@settings(max_examples=30)
@given(
    ndim=st.integers(1, 4),
    data=st.data(),
    scale=st.floats(0.1, 50.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_probabilities_sum_to_one_and_agree_with_log_probabilities(
    solution, ndim, data, scale, seed
):
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    x = scale * np.random.default_rng(seed).standard_normal(shape)
    p = check(solution, "softmax", x, axis, f"x of shape {shape}")
    log_p = check(solution, "log_softmax", x, axis, f"x of shape {shape}")
    assert ((p >= 0) & (p <= 1)).all(), f"softmax(x, axis={axis}) leaves [0, 1]: {p}"
    assert sums_to_one(p, axis), f"softmax(x, axis={axis}) sums to {p.sum(axis=axis)}, not 1"
    assert (log_p <= 0).all(), f"log_softmax(x, axis={axis}) has positive entries: {log_p}"
    assert_close(
        np.exp(log_p), p, msg=lambda m: f"exp(log_softmax(x, axis={axis})) != softmax(x): {m}"
    )


# ---------------------------------------------------------------------------- types, errors


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_the_result_has_the_input_shape_and_dtype(solution, name, dtype):
    x = (2 * np.random.default_rng(3).standard_normal((4, 3, 5))).astype(dtype)
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    # check() compares shape and dtype too: float32 in, float32 out
    check(
        solution,
        name,
        x,
        1,
        f"{np.dtype(dtype).name} x of shape (4, 3, 5)",
        **tolerance(torch_dtype),
    )


def test_the_input_is_not_modified(solution):
    x = 5 * np.random.default_rng(4).standard_normal((3, 4)) + 100
    before = x.copy()
    for name in FUNCTIONS:
        for axis in (0, -1):
            getattr(solution, name)(x, axis=axis)
            assert np.array_equal(x, before), (
                f"{name}(x, axis={axis}) modified its input x; work on a new array "
                "(x = x - m, not x -= m)"
            )


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("axis", [2, -3, 5])
def test_an_axis_out_of_range_raises(solution, name, axis):
    x = np.zeros((2, 3))
    with pytest.raises((ValueError, IndexError)):
        getattr(solution, name)(x, axis=axis)
