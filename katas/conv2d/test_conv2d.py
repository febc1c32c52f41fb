"""Tests for the conv2d kata: values, shapes, dtypes, errors and speed.

The oracle is torch.nn.functional.conv2d in float64 on the same numbers, over a grid of
strides, paddings, dilations (ints and pairs), groups (1, 2, depthwise), with and without
bias, square and non-square inputs and kernels. Every draw is seeded; the kernels are scaled
by 1/sqrt(fan-in) so that the outputs are of order one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close

# --- helpers: inputs, oracle, checks --------------------------------------------------------


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def inputs(
    seed: int,
    x_shape: tuple[int, int, int, int],
    w_shape: tuple[int, int, int, int],
    bias: bool,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    fan_in = w_shape[1] * w_shape[2] * w_shape[3]
    weight = rng.standard_normal(w_shape) / np.sqrt(fan_in)
    b = rng.standard_normal(w_shape[0]) if bias else None
    cast = (lambda a: a.astype(dtype)) if dtype is not np.float64 else (lambda a: a)
    return cast(x), cast(weight), None if b is None else cast(b)


def torch_conv2d(x, weight, bias=None, **options) -> np.ndarray:
    """F.conv2d in float64 on the same numbers."""
    t = lambda a: None if a is None else torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    return F.conv2d(t(x), t(weight), t(bias), **options).numpy()


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def call_text(x, weight, bias, options: dict) -> str:
    settings_text = "".join(f", {k}={v}" for k, v in options.items())
    b = "None" if bias is None else f"<{bias.shape}>"
    return f"conv2d(x {x.shape} {x.dtype}, weight {weight.shape}, bias={b}{settings_text})"


# (N, C, H, W), (O, C/groups, kH, kW), options, bias
CASES = [
    pytest.param((2, 3, 7, 7), (4, 3, 3, 3), {}, True, id="3x3_defaults"),
    pytest.param((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 2, "padding": 1}, True, id="stride2_pad1"),
    pytest.param((1, 3, 10, 9), (2, 3, 3, 3), {"padding": 2, "dilation": 2}, False, id="dilation2"),
    pytest.param(
        (2, 4, 9, 11),
        (6, 2, 3, 2),
        {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1), "groups": 2},
        True,
        id="pairs_everywhere_groups2",
    ),
    pytest.param((2, 4, 6, 6), (6, 2, 3, 3), {"padding": 1, "groups": 2}, True, id="groups2"),
    pytest.param((2, 5, 7, 6), (5, 1, 3, 3), {"padding": 1, "groups": 5}, True, id="depthwise"),
    pytest.param(
        (1, 3, 6, 6),
        (6, 1, 3, 3),
        {"stride": 2, "padding": 1, "groups": 3},
        False,
        id="depthwise_multiplier2",
    ),
    pytest.param((2, 3, 8, 6), (4, 3, 1, 5), {"padding": (0, 2)}, True, id="1x5_kernel"),
    pytest.param((2, 3, 5, 9), (4, 3, 4, 2), {}, True, id="non_square_input_and_kernel"),
    pytest.param((2, 5, 4, 3), (3, 5, 1, 1), {}, True, id="1x1"),
    pytest.param((1, 4, 7, 7), (2, 4, 1, 1), {"stride": 2}, False, id="1x1_stride2"),
    pytest.param((2, 3, 5, 4), (2, 3, 7, 6), {"padding": 1}, True, id="kernel_fills_padded_input"),
    pytest.param((1, 2, 5, 5), (3, 2, 3, 3), {"dilation": 2}, False, id="dilated_fills_input"),
    pytest.param((2, 3, 11, 10), (3, 3, 2, 2), {"stride": 3}, True, id="stride_beyond_kernel"),
    pytest.param((1, 2, 8, 8), (2, 2, 3, 3), {"stride": 3}, True, id="size_rounds_down"),
    pytest.param(
        (2, 4, 13, 12),
        (4, 2, 3, 3),
        {"stride": (3, 2), "padding": 2, "dilation": (2, 3), "groups": 2},
        True,
        id="stride3x2_pad2_dilation2x3",
    ),
    pytest.param((1, 1, 5, 5), (1, 1, 3, 3), {"padding": 1}, False, id="one_channel"),
    pytest.param((1, 2, 4, 4), (2, 2, 2, 2), {"padding": 3}, True, id="padding_beyond_kernel"),
]


# --- the README's worked example ------------------------------------------------------------


def test_the_readme_worked_example_holds(solution):
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    weight = np.array([[[[0.0, 1.0], [2.0, 0.0]]]])
    out = solution.conv2d(x, weight)
    expected = np.array([[[[10.0, 13.0], [19.0, 22.0]]]])
    assert_close(out, expected, msg=lambda m: f"conv2d(x, weight) in the README: {m}")
    out = solution.conv2d(x, weight, bias=np.array([1.0]), stride=2, padding=1)
    expected = np.array([[[[1.0, 5.0], [5.0, 23.0]]]])
    assert_close(
        out, expected, msg=lambda m: f"conv2d(x, weight, bias=[1], stride=2, padding=1): {m}"
    )


# --- values and shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(("x_shape", "w_shape", "options", "bias"), CASES)
def test_conv2d_matches_torch_in_float64(solution, x_shape, w_shape, options, bias):
    x, weight, b = inputs(1, x_shape, w_shape, bias)
    result = solution.conv2d(x, weight, b, **options)
    expected = torch_conv2d(x, weight, b, **options)
    call = call_text(x, weight, b, options)
    assert_close(result, expected, rtol=1e-9, atol=1e-9, msg=lambda m: f"{call}: {m}")


@pytest.mark.parametrize(("x_shape", "w_shape", "options", "bias"), CASES)
def test_the_output_shape_follows_the_formula(solution, x_shape, w_shape, options, bias):
    x, weight, b = inputs(2, x_shape, w_shape, bias)
    (N, _, H, W), (O, _, kH, kW) = x_shape, w_shape
    sH, sW = pair(options.get("stride", 1))
    pH, pW = pair(options.get("padding", 0))
    dH, dW = pair(options.get("dilation", 1))
    expected = (N, O, output_size(H, kH, sH, pH, dH), output_size(W, kW, sW, pW, dW))
    result = solution.conv2d(x, weight, b, **options)
    assert isinstance(result, np.ndarray), (
        f"{call_text(x, weight, b, options)} returned {type(result).__name__}, not an ndarray"
    )
    assert result.shape == expected, (
        f"{call_text(x, weight, b, options)} has shape {result.shape}, expected {expected}: "
        "Ho = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1"
    )


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "options"),
    [
        ((2, 3, 9, 8), (4, 3, 3, 3), {"stride": 2, "padding": 1}),
        ((2, 4, 8, 9), (4, 1, 3, 2), {"padding": (1, 0), "dilation": 2, "groups": 4}),
    ],
    ids=["stride2_pad1", "depthwise_dilated"],
)
def test_float32_in_gives_float32_out(solution, x_shape, w_shape, options):
    x, weight, b = inputs(3, x_shape, w_shape, True, dtype=np.float32)
    result = solution.conv2d(x, weight, b, **options)
    expected = torch_conv2d(x, weight, b, **options).astype(np.float32)
    call = call_text(x, weight, b, options)
    assert_close(result, expected, rtol=1e-5, atol=1e-5, msg=lambda m: f"{call}: {m}")


def test_strided_views_of_x_and_weight_are_read_correctly(solution):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 6, 3)).transpose(0, 3, 1, 2)  # NHWC data seen as NCHW
    weight = (rng.standard_normal((3, 3, 3, 4)) / 6).transpose(3, 2, 0, 1)  # (4, 3, 3, 3)
    assert not x.flags.c_contiguous and not weight.flags.c_contiguous
    options = {"stride": (1, 2), "padding": 1}
    result = solution.conv2d(x, weight, None, **options)
    expected = torch_conv2d(x, weight, None, **options)
    call = f"conv2d(x.transpose(0, 3, 1, 2), weight (strided), {options})"
    assert_close(result, expected, rtol=1e-9, atol=1e-9, msg=lambda m: f"{call}: {m}")


def test_the_inputs_are_left_unchanged(solution):
    x, weight, b = inputs(5, (2, 4, 6, 6), (4, 2, 3, 3), True)
    before = (x.copy(), weight.copy(), b.copy())
    solution.conv2d(x, weight, b, stride=2, padding=1, groups=2)
    for name, now, then in zip(("x", "weight", "bias"), (x, weight, b), before, strict=True):
        assert np.array_equal(now, then), f"conv2d(x, weight, bias, ...) modified {name}"


def test_an_int_and_the_pair_of_that_int_mean_the_same(solution):
    x, weight, b = inputs(6, (1, 2, 9, 9), (3, 2, 3, 3), True)
    as_ints = solution.conv2d(x, weight, b, stride=2, padding=1, dilation=2)
    as_pairs = solution.conv2d(x, weight, b, stride=(2, 2), padding=(1, 1), dilation=(2, 2))
    assert_close(
        as_pairs,
        as_ints,
        msg=lambda m: (
            "conv2d(..., stride=(2, 2), padding=(1, 1), dilation=(2, 2)) should equal "
            f"conv2d(..., stride=2, padding=1, dilation=2): {m}"
        ),
    )


@settings(max_examples=30)
@given(
    n=st.integers(1, 2),
    groups=st.integers(1, 3),
    c_per_group=st.integers(1, 3),
    o_per_group=st.integers(1, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_setting_matches_torch(
    solution,
    n,
    groups,
    c_per_group,
    o_per_group,
    size,
    kernel,
    stride,
    padding,
    dilation,
    bias,
    seed,
):
    # grow the input until the dilated kernel fits in it
    H = max(size[0], dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0])
    W = max(size[1], dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1])
    x_shape = (n, groups * c_per_group, H, W)
    w_shape = (groups * o_per_group, c_per_group, *kernel)
    x, weight, b = inputs(seed, x_shape, w_shape, bias)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    result = solution.conv2d(x, weight, b, **options)
    expected = torch_conv2d(x, weight, b, **options)
    call = call_text(x, weight, b, options)
    assert_close(result, expected, rtol=1e-9, atol=1e-9, msg=lambda m: f"{call}: {m}")


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "options", "bias_shape"),
    [
        pytest.param((1, 5, 6, 6), (4, 2, 3, 3), {"groups": 2}, None, id="C_not_multiple"),
        pytest.param((1, 4, 6, 6), (3, 2, 3, 3), {"groups": 2}, None, id="O_not_multiple"),
        pytest.param((1, 4, 6, 6), (4, 4, 3, 3), {"groups": 2}, None, id="weight_all_channels"),
        pytest.param((1, 3, 6, 6), (4, 2, 3, 3), {}, None, id="weight_channels_differ_from_C"),
        pytest.param((1, 3, 6, 6), (4, 3, 3, 3), {}, (3,), id="bias_of_the_wrong_size"),
        pytest.param((1, 3, 4, 6), (2, 3, 5, 3), {}, None, id="kernel_taller_than_input"),
        pytest.param(
            (1, 3, 6, 6), (2, 3, 3, 3), {"dilation": (1, 3)}, None, id="dilated_kernel_too_wide"
        ),
    ],
)
def test_inconsistent_shapes_raise_value_error(solution, x_shape, w_shape, options, bias_shape):
    rng = np.random.default_rng(7)
    x, weight = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    bias = None if bias_shape is None else rng.standard_normal(bias_shape)
    with pytest.raises(ValueError):
        solution.conv2d(x, weight, bias, **options)


# --- speed ----------------------------------------------------------------------------------


@pytest.mark.speed
@pytest.mark.timeout(15)
def test_a_resnet_sized_layer_takes_seconds_not_minutes(solution):
    """Python loops over 32 x 64 x 56 x 56 output pixels cannot finish in time: gather every
    window at once (im2col, or sliding_window_view) and let one matrix product do the sums."""
    x, weight, b = inputs(8, (32, 64, 56, 56), (64, 64, 3, 3), True, dtype=np.float32)
    out = solution.conv2d(x, weight, b, padding=1)
    assert isinstance(out, np.ndarray) and out.shape == (32, 64, 56, 56), (
        f"conv2d(x (32, 64, 56, 56), weight (64, 64, 3, 3), padding=1) returned shape "
        f"{getattr(out, 'shape', None)}, expected (32, 64, 56, 56)"
    )
    expected = torch_conv2d(x[:2], weight, b, padding=1).astype(np.float32)
    assert_close(
        out[:2],
        expected,
        rtol=1e-4,
        atol=1e-4,
        msg=lambda m: f"conv2d(x (32, 64, 56, 56) float32, weight (64, 64, 3, 3), padding=1): {m}",
    )
