"""Tests for the dropout kata: which elements are zeroed, how survivors are scaled, the
generator, evaluation mode, gradients, dtypes, devices and errors.

Dropout is random, so it is judged by its distribution, never by reproducing torch's draws:
counts of zeros against the binomial law, with bounds at Z = 5.5 standard deviations
(a right solution fails one such check with probability 3.8e-8, below one in a million),
and every draw comes from a seeded generator, so each run is deterministic.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, P_MIN, assert_close, tolerance

Z = 5.5  # two-sided normal tail at 5.5 sigma: 3.8e-8 < P_MIN = 1e-6


# ---------------------------------------------------------------------------- helpers


def seeded(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def nonzero_inputs(seed: int, *shape: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Values in [-2, -0.5] or [0.5, 2], never 0, so that a zero in the output is a drop;
    drawn on the CPU and moved to dtype and device."""
    gen = seeded(seed)
    size = 0.5 + 1.5 * torch.rand(shape, generator=gen, dtype=torch.float64)
    sign = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0)
    return (size * sign).to(device=device, dtype=dtype)


def call(x: torch.Tensor, p: float, training: bool = True, generator: str = "seeded") -> str:
    dtype = str(x.dtype).removeprefix("torch.")
    return (
        f"dropout(x {dtype} {tuple(x.shape)} on {x.device}, p={p}, training={training}, "
        f"generator={generator})"
    )


def check_survivors(out: torch.Tensor, x: torch.Tensor, p: float, what: str) -> torch.Tensor:
    """Every element of out is 0 or x / (1 - p); returns the mask of survivors."""
    __tracebackhide__ = True
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device, (
        f"{what} returned {out.dtype} {tuple(out.shape)} on {out.device}; expected x's "
        f"{x.dtype} {tuple(x.shape)} on {x.device}"
    )
    kept = out != 0
    want = (x.double() / (1 - p)).to(x.dtype)
    assert_close(
        out[kept],
        want[kept],
        msg=lambda m: f"{what}: a kept element must be exactly x / (1 - p)\n{m}",
        **tolerance(x.dtype),
    )
    return kept


def assert_binomial(count: int, n: int, q: float, what: str) -> None:
    """count ~ Binomial(n, q), within Z standard deviations."""
    __tracebackhide__ = True
    mean, sd = n * q, math.sqrt(n * q * (1 - q))
    z = (count - mean) / sd
    assert abs(z) < Z, (
        f"{what}: {count} of {n} elements were zeroed ({count / n:.4f}); expected about "
        f"{mean:.0f} ({q}), a deviation of {z:.1f} standard deviations where a right "
        f"solution stays within {Z} (false-failure rate < {P_MIN:g})"
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    out = solution.dropout(x, 0.5, generator=seeded(0))
    what = "README example dropout([1, 2, 3, 4], 0.5)"
    assert all(o in (0.0, 2 * v) for o, v in zip(out.tolist(), x.tolist(), strict=True)), (
        f"{what} returned {out.tolist()}; each element must be 0 or twice its value, "
        "e.g. [2, 0, 6, 0]"
    )
    assert solution.dropout(x, 0.0, generator=seeded(0)).tolist() == [1.0, 2.0, 3.0, 4.0], (
        "README example dropout([1, 2, 3, 4], 0.0) must return [1, 2, 3, 4]"
    )
    assert solution.dropout(x, 1.0, generator=seeded(0)).tolist() == [0.0, 0.0, 0.0, 0.0], (
        "README example dropout([1, 2, 3, 4], 1.0) must return [0, 0, 0, 0]"
    )
    out = solution.dropout(x, 0.5, training=False, generator=seeded(0))
    assert out.tolist() == [1.0, 2.0, 3.0, 4.0], (
        f"README example dropout([1, 2, 3, 4], 0.5, training=False) returned {out.tolist()}; "
        "expected [1, 2, 3, 4]"
    )


# ---------------------------------------------------------------------------- distribution


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8, 0.97])
@pytest.mark.parametrize("device", DEVICES)
def test_each_element_is_zeroed_with_probability_p(solution, device, p):
    x = nonzero_inputs(1, 400, 500, dtype=torch.float32, device=device)
    out = solution.dropout(x, p, generator=seeded(2, device))
    what = call(x, p)
    kept = check_survivors(out, x, p, what)
    assert_binomial(int((~kept).sum()), x.numel(), p, what)


@pytest.mark.parametrize("p", [0.2, 0.6])
@pytest.mark.parametrize("device", DEVICES)
def test_the_expected_output_equals_the_input(solution, device, p):
    """Per column: the mean of N draws of x_j / (1 - p) * Bernoulli(1 - p) is x_j within
    Z * |x_j| * sqrt(p / (1 - p) / N)."""
    row = torch.linspace(-2, 3, 16, dtype=torch.float64)
    row[row == 0] = 1.0
    N = 20_000
    x = row.to(device).expand(N, 16)
    out = solution.dropout(x, p, generator=seeded(3, device))
    what = call(x, p)
    means = out.mean(0).cpu()
    bound = Z * row.abs() * math.sqrt(p / (1 - p) / N)
    worst = ((means - row).abs() / bound).max().item()
    assert worst < 1, (
        f"{what} with every row equal to {[round(v, 2) for v in row.tolist()]}: the column "
        f"means are {[round(v, 3) for v in means.tolist()]}; expected the row back "
        f"within {Z} standard errors (inverted dropout keeps E[out] = x)"
    )


def chi_square_of_counts(counts: torch.Tensor, n: int, q: float) -> tuple[float, float, int]:
    """Pearson's statistic of counts, each Binomial(n, q), and its lower and upper tail
    probabilities under the chi-square law with counts.numel() degrees of freedom."""
    statistic = float(((counts.double() - n * q) ** 2 / (n * q * (1 - q))).sum())
    df = torch.tensor(counts.numel() / 2, dtype=torch.float64)
    half = torch.tensor(statistic / 2, dtype=torch.float64)
    lower = float(torch.special.gammainc(df, half))
    return lower, 1 - lower, counts.numel()


@pytest.mark.parametrize("dim", [1, 0], ids=["per-row", "per-column"])
@pytest.mark.parametrize("device", DEVICES)
def test_no_mask_is_shared_between_rows_or_columns(solution, device, dim):
    """If every element is zeroed independently, each row's (column's) zero count is
    Binomial(n, p): their spread must be neither too small (one mask for every row) nor
    too large (one draw per row), by a chi-square test at P_MIN on either side."""
    p = 0.5
    x = nonzero_inputs(4, 600, 200, dtype=torch.float32, device=device)
    out = solution.dropout(x, p, generator=seeded(5, device))
    zeros = (out == 0).sum(dim).cpu()  # one count per row (or column)
    n = x.shape[dim]
    lower, upper, df = chi_square_of_counts(zeros, n, p)
    what = call(x, p)
    assert lower > P_MIN and upper > P_MIN, (
        f"{what}: the zero counts {'per row' if dim == 1 else 'per column'} (first ten "
        f"{zeros[:10].tolist()}, each expected Binomial({n}, {p}) about {n * p:.0f}) spread "
        f"{'too little' if lower <= P_MIN else 'too much'} (chi-square lower tail {lower:.2g}, "
        f"upper tail {upper:.2g} on {df} degrees of freedom): every element needs its own draw"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_a_three_dim_input_gets_a_different_mask_for_every_position(solution, device):
    x = nonzero_inputs(6, 8, 16, 32, dtype=torch.float32, device=device)
    out = solution.dropout(x, 0.5, generator=seeded(7, device))
    mask = (out != 0).reshape(-1, 32).cpu()
    distinct = torch.unique(mask, dim=0).shape[0]
    assert distinct > 100, (
        f"{call(x, 0.5)}: only {distinct} distinct masks over the 128 rows of the last dim; "
        "expected (almost) every row to differ"
    )


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=30)
@given(
    shape=st.lists(st.integers(0, 5), max_size=4),
    p=st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)),
    seed=st.integers(0, 2**16),
)
def test_drawn_shapes_and_probabilities_give_zeros_and_scaled_survivors(
    solution, device, shape, p, seed
):
    x = nonzero_inputs(seed, *shape, device=device)
    out = solution.dropout(x, p, generator=seeded(seed + 1, device))
    what = call(x, p)
    kept = check_survivors(out, x, p, what)
    if p == 1.0:
        assert not kept.any(), f"{what}: p=1 must zero every element"
    if p == 0.0:
        assert kept.all(), f"{what}: p=0 must keep every element"


# ---------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
def test_p_zero_returns_the_input(solution, device, dtype):
    x = nonzero_inputs(8, 30, 40, dtype=dtype, device=device)
    out = solution.dropout(x, 0.0, generator=seeded(9, device))
    assert_close(out, x, rtol=0, atol=0, msg=lambda m: f"{call(x, 0.0)} must return x\n{m}")


@pytest.mark.parametrize("device", DEVICES)
def test_p_one_returns_zeros_and_zero_gradients_never_nan(solution, device):
    x = nonzero_inputs(10, 30, 40, device=device).requires_grad_()
    out = solution.dropout(x, 1.0, generator=seeded(11, device))
    assert_close(
        out, torch.zeros(30, 40, dtype=torch.float64, device=device), rtol=0, atol=0,
        msg=lambda m: f"{call(x, 1.0)} must return zeros (not 0 / 0 = NaN)\n{m}",
    )  # fmt: skip
    (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if grad is not None:
        assert_close(
            grad, torch.zeros_like(x), rtol=0, atol=0,
            msg=lambda m: f"{call(x, 1.0)}: the gradient must be zero, not NaN\n{m}",
        )  # fmt: skip


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("device", DEVICES)
def test_evaluation_mode_returns_the_input(solution, device, p):
    x = nonzero_inputs(12, 30, 40, device=device)
    out = solution.dropout(x, p, training=False, generator=seeded(13, device))
    assert_close(
        out, x, rtol=0, atol=0,
        msg=lambda m: f"{call(x, p, training=False)} must return x unchanged\n{m}",
    )  # fmt: skip


def test_the_input_is_left_unchanged(solution):
    x = nonzero_inputs(14, 30, 40)
    before = x.clone()
    solution.dropout(x, 0.5, generator=seeded(15))
    assert torch.equal(x, before), f"{call(x, 0.5)} modified its input x"


@pytest.mark.parametrize("p", [-0.1, 1.1, -1.0, 2.0])
@pytest.mark.parametrize("training", [True, False])
def test_p_outside_zero_one_raises_value_error(solution, p, training):
    x = nonzero_inputs(16, 4, 5)
    with pytest.raises(ValueError):
        solution.dropout(x, p, training=training, generator=seeded(17))
        pytest.fail(f"{call(x, p, training)} returned; expected ValueError (p outside [0, 1])")


# ---------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("device", DEVICES)
def test_the_same_seed_gives_the_same_mask_and_other_seeds_other_masks(solution, device):
    x = nonzero_inputs(18, 50, 60, device=device)
    first = solution.dropout(x, 0.5, generator=seeded(19, device))
    again = solution.dropout(x, 0.5, generator=seeded(19, device))
    assert torch.equal(first, again), (
        f"{call(x, 0.5)} twice with generators seeded 19 gave different outputs: draw "
        "from the generator you are given"
    )
    other = solution.dropout(x, 0.5, generator=seeded(20, device))
    assert not torch.equal(first, other), (
        f"{call(x, 0.5)} with generators seeded 19 and 20 gave the same mask"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_without_a_generator_the_default_one_is_used(solution, device):
    x = nonzero_inputs(21, 400, 500, dtype=torch.float32, device=device)
    out = solution.dropout(x, 0.3)
    what = call(x, 0.3, generator="None")
    kept = check_survivors(out, x, 0.3, what)
    assert_binomial(int((~kept).sum()), x.numel(), 0.3, what)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("p", [0.25, 0.5])
@pytest.mark.parametrize("device", DEVICES)
def test_the_gradient_flows_through_the_survivors_only_scaled(solution, device, p):
    x = nonzero_inputs(22, 30, 40, device=device).requires_grad_()
    upstream = torch.randn(30, 40, generator=seeded(23), dtype=torch.float64).to(device)
    out = solution.dropout(x, p, generator=seeded(24, device))
    (grad,) = torch.autograd.grad((out * upstream).sum(), x, allow_unused=True)
    what = call(x, p)
    assert grad is not None, f"{what}: the output does not depend on x (no gradient)"
    kept = (out != 0).double()
    assert_close(
        grad, upstream * kept / (1 - p),
        msg=lambda m: f"{what}: the gradient must be upstream / (1 - p) at kept elements, "
        f"0 at dropped ones\n{m}",
    )  # fmt: skip


# ---------------------------------------------------------------------------- dtypes, devices


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64],
    ids=["float16", "bfloat16", "float32", "float64"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_keeps_the_dtype_of_x(solution, device, dtype):
    p = 0.3
    x = nonzero_inputs(25, 200, 500, dtype=dtype, device=device)
    out = solution.dropout(x, p, generator=seeded(26, device))
    what = call(x, p)
    kept = check_survivors(out, x, p, what)
    assert_binomial(int((~kept).sum()), x.numel(), p, what)


@pytest.mark.parametrize("device", DEVICES)
def test_the_output_lives_on_the_device_of_x(solution, device):
    p = 0.4
    x = nonzero_inputs(27, 400, 500, dtype=torch.float32).to(device)
    out = solution.dropout(x, p, generator=seeded(28, device))
    what = call(x, p)
    kept = check_survivors(out, x, p, what)
    assert_binomial(int((~kept).sum()), x.numel(), p, what)
    again = solution.dropout(x, p, generator=seeded(28, device))
    assert torch.equal(out, again), f"{what}: the same seed gave different outputs"
