"""Tests for the segmentation_losses kata: Dice and focal loss values, reductions, stability
at large logits, gradients, dtypes and devices.

The oracles are the formulas written out below in float64 (the elementwise cross-entropy
from torch's binary_cross_entropy_with_logits); every draw is seeded.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

LN3 = math.log(3)

# ---------------------------------------------------------------------------- oracles


def expected_dice(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0):
    """The Dice formula in float64, one ratio per sample, then the batch mean."""
    p = torch.sigmoid(logits.double())
    t = target.double()
    dims = tuple(range(1, p.ndim))
    dice = (2 * (p * t).sum(dims) + smooth) / (p.sum(dims) + t.sum(dims) + smooth)
    return (1 - dice).mean()


def expected_focal(logits, target, alpha=0.25, gamma=2.0, reduction="mean"):
    """The focal formula in float64, elementwise, then reduced."""
    x, t = logits.double(), target.double()
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def logits_and_mask(seed: int, shape=(4, 1, 8, 8), dtype=torch.float64, soft=False):
    """Logits ~ N(0, 2^2) and a mask with a different share of foreground in each sample
    (from 10% to 90%), or soft targets uniform in [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(shape, generator=gen, dtype=torch.float64)
    u = torch.rand(shape, generator=gen, dtype=torch.float64)
    share = torch.linspace(0.1, 0.9, shape[0], dtype=torch.float64)
    target = u if soft else (u < share.reshape(-1, *[1] * (len(shape) - 1))).double()
    return logits.to(dtype), target.to(dtype)


def describe(name: str, logits, **kw) -> str:
    args = "".join(f", {k}={v!r}" for k, v in kw.items())
    dtype = str(logits.dtype).removeprefix("torch.")
    return f"{name}(logits {dtype} {tuple(logits.shape)}, target{args})"


def check_dice(solution, logits, target, smooth=1.0, **tol):
    __tracebackhide__ = True
    call = describe("dice_loss", logits, smooth=smooth)
    got = solution.dice_loss(logits, target, smooth=smooth)
    want = expected_dice(logits.cpu(), target.cpu(), smooth).to(logits.dtype)
    assert got.device == logits.device, f"{call} on {logits.device} returned {got.device}"
    assert_close(got.cpu(), want, msg=lambda m: f"{call}: differs from the formula\n{m}", **tol)


def check_focal(solution, logits, target, **kw):
    __tracebackhide__ = True
    tol = kw.pop("tol", tolerance(logits.dtype))
    call = describe("sigmoid_focal_loss", logits, **kw)
    got = solution.sigmoid_focal_loss(logits, target, **kw)
    want = expected_focal(logits.cpu(), target.cpu(), **kw).to(logits.dtype)
    assert got.device == logits.device, f"{call} on {logits.device} returned {got.device}"
    assert_close(got.cpu(), want, msg=lambda m: f"{call}: differs from the formula\n{m}", **tol)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    to_4_places = {"rtol": 0, "atol": 5e-5}
    logits = torch.tensor([[[[0.0, LN3]]], [[[-LN3, 0.0]]]])
    target = torch.tensor([[[[0.0, 1]]], [[[0.0, 0]]]])
    got = solution.dice_loss(logits, target)
    assert_close(got, torch.tensor(0.3297), msg="README dice_loss example", **to_4_places)

    x, t = torch.tensor([LN3, LN3, 0.0]), torch.tensor([1.0, 0, 1])
    got = solution.sigmoid_focal_loss(x, t, reduction="none")
    want = torch.tensor([0.0045, 0.5848, 0.0433])
    assert_close(got, want, msg="README sigmoid_focal_loss, reduction='none'", **to_4_places)
    got = solution.sigmoid_focal_loss(x, t)
    assert_close(got, torch.tensor(0.2109), msg="README focal, mean", **to_4_places)
    got = solution.sigmoid_focal_loss(x, t, reduction="sum")
    assert_close(got, torch.tensor(0.6327), msg="README focal, sum", **to_4_places)
    got = solution.sigmoid_focal_loss(x, t, alpha=-1, reduction="none")
    want = torch.tensor([0.0180, 0.7798, 0.1733])
    assert_close(got, want, msg="README focal, alpha=-1, reduction='none'", **to_4_places)


# ---------------------------------------------------------------------------- dice


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("smooth", [1.0, 0.5, 10.0])
def test_dice_matches_the_formula(solution, device, dtype, smooth):
    logits, target = logits_and_mask(1, dtype=dtype)
    check_dice(solution, logits.to(device), target.to(device), smooth, **tolerance(dtype))


def test_dice_with_soft_targets_and_several_channels_matches_the_formula(solution):
    logits, target = logits_and_mask(2, shape=(3, 2, 5, 7), soft=True)
    check_dice(solution, logits, target)


def test_dice_is_computed_per_sample_then_averaged(solution):
    # sample 0 is a large object predicted well, sample 1 a tiny object missed
    logits = torch.full((2, 1, 6, 6), -4.0, dtype=torch.float64)
    target = torch.zeros(2, 1, 6, 6, dtype=torch.float64)
    logits[0, :, :5, :5], target[0, :, :5, :5] = 4.0, 1.0
    target[1, 0, 0, 0] = 1.0
    check_dice(solution, logits, target)
    single = [solution.dice_loss(logits[i : i + 1], target[i : i + 1]) for i in range(2)]
    got = solution.dice_loss(logits, target)
    assert_close(
        got,
        (single[0] + single[1]) / 2,
        msg=lambda m: f"dice_loss of a batch should be the mean of its samples' losses\n{m}",
    )


def test_a_perfect_prediction_has_dice_loss_zero(solution):
    _, target = logits_and_mask(3)
    logits = 50 * (2 * target - 1)  # +50 on the mask, -50 elsewhere
    got = solution.dice_loss(logits, target)
    assert_close(
        got,
        torch.tensor(0.0, dtype=torch.float64),
        atol=1e-9,
        rtol=0,
        msg="dice_loss(+-50 logits matching the mask) should be 0",
    )


def test_an_empty_mask_predicted_empty_has_loss_zero_thanks_to_smooth(solution):
    logits = torch.full((2, 1, 4, 4), -50.0, dtype=torch.float64)
    got = solution.dice_loss(logits, torch.zeros_like(logits))
    assert_close(
        got,
        torch.tensor(0.0, dtype=torch.float64),
        atol=1e-9,
        rtol=0,
        msg="dice_loss(all -50, empty mask): smooth / smooth should give 0",
    )


def test_dice_gradient_matches_the_formula(solution):
    logits, target = logits_and_mask(4, shape=(3, 1, 5, 5))
    leaf = logits.clone().requires_grad_()
    (want,) = torch.autograd.grad(expected_dice(leaf, target), leaf)
    leaf = logits.clone().requires_grad_()
    (got,) = torch.autograd.grad(solution.dice_loss(leaf, target), leaf)
    assert_close(got, want, msg=lambda m: f"gradient of dice_loss with respect to logits\n{m}")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_dice_in_half_precision_keeps_the_dtype_and_is_close(solution, dtype):
    logits, target = logits_and_mask(5, dtype=dtype)
    check_dice(solution, logits, target, **tolerance(dtype))


# ---------------------------------------------------------------------------- focal

FOCAL_SETTINGS = [
    {"alpha": 0.25, "gamma": 2.0},
    {"alpha": 0.8, "gamma": 1.0},
    {"alpha": -1, "gamma": 2.0},
    {"alpha": 0.25, "gamma": 0.0},
    {"alpha": 0.5, "gamma": 3.5},
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("kw", FOCAL_SETTINGS, ids=lambda kw: f"a{kw['alpha']}-g{kw['gamma']}")
def test_focal_matches_the_formula(solution, device, reduction, kw):
    logits, target = logits_and_mask(6)
    check_focal(solution, logits.to(device), target.to(device), reduction=reduction, **kw)


def test_focal_defaults_are_alpha_quarter_gamma_two_and_mean(solution):
    logits, target = logits_and_mask(7, dtype=torch.float32)
    got = solution.sigmoid_focal_loss(logits, target)
    want = expected_focal(logits, target, 0.25, 2.0, "mean").float()
    assert_close(got, want, msg=lambda m: f"sigmoid_focal_loss(logits, target) defaults\n{m}")


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gamma_zero_and_no_alpha_is_binary_cross_entropy(solution, reduction):
    logits, target = logits_and_mask(8, soft=True)
    got = solution.sigmoid_focal_loss(logits, target, alpha=-1, gamma=0.0, reduction=reduction)
    want = F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)
    assert_close(got, want, msg=lambda m: f"focal(alpha=-1, gamma=0, {reduction!r}) vs BCE\n{m}")


def test_focal_with_soft_targets_matches_the_formula(solution):
    logits, target = logits_and_mask(9, shape=(2, 3, 4, 5), soft=True)
    check_focal(solution, logits, target, alpha=0.3, gamma=1.5, reduction="none")


def test_focal_gradient_matches_the_formula(solution):
    logits, target = logits_and_mask(10, shape=(2, 1, 5, 5))
    kw = {"alpha": 0.3, "gamma": 2.0, "reduction": "sum"}
    leaf = logits.clone().requires_grad_()
    (want,) = torch.autograd.grad(expected_focal(leaf, target, **kw), leaf)
    leaf = logits.clone().requires_grad_()
    (got,) = torch.autograd.grad(solution.sigmoid_focal_loss(leaf, target, **kw), leaf)
    assert_close(got, want, msg=lambda m: f"gradient of sigmoid_focal_loss(**{kw})\n{m}")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_focal_in_half_precision_keeps_the_dtype_and_is_close(solution, dtype):
    logits, target = logits_and_mask(11, dtype=dtype)
    check_focal(solution, logits, target, reduction="none")


@settings(max_examples=30)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
    alpha=st.sampled_from([-1.0, 0.0, 0.25, 1.0]),
    gamma=st.floats(0.0, 4.0),
    seed=st.integers(0, 2**16),
)
def test_drawn_shapes_and_settings_match_the_formula(solution, shape, alpha, gamma, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(shape, generator=gen, dtype=torch.float64)
    target = (torch.rand(shape, generator=gen, dtype=torch.float64) < 0.5).double()
    check_focal(solution, logits, target, alpha=alpha, gamma=gamma, reduction="none")


def test_an_unknown_reduction_raises_a_value_error_naming_it(solution):
    logits, target = logits_and_mask(12)
    with pytest.raises(ValueError, match="average"):
        solution.sigmoid_focal_loss(logits, target, reduction="average")


# ---------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_logits_of_plus_minus_fifty_give_finite_losses_and_gradients(solution, dtype):
    """Both signs of logit against both labels: log(sigmoid(x)) as written gives -inf."""
    logits = torch.tensor([50.0, -50.0, 50.0, -50.0, 0.5], dtype=dtype).reshape(1, 1, 1, 5)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype).reshape(1, 1, 1, 5)
    for name, loss_fn, want_fn in [
        ("sigmoid_focal_loss", solution.sigmoid_focal_loss, expected_focal),
        ("dice_loss", solution.dice_loss, expected_dice),
    ]:
        leaf = logits.clone().requires_grad_()
        loss = loss_fn(leaf, target)
        (grad,) = torch.autograd.grad(loss, leaf)
        call = f"{name}(logits [50, -50, 50, -50, 0.5], target [1, 0, 0, 1, 1], {dtype})"
        assert torch.isfinite(loss).all(), f"{call} = {loss}; expected a finite loss"
        assert torch.isfinite(grad).all(), f"{call}: gradient {grad.flatten().tolist()}"
        want = want_fn(logits, target).to(dtype)
        assert_close(loss.detach(), want, msg=lambda m, c=call: f"{c}\n{m}", **tolerance(dtype))


def test_the_inputs_are_left_unchanged(solution):
    logits, target = logits_and_mask(13)
    before = logits.clone(), target.clone()
    solution.dice_loss(logits, target)
    solution.sigmoid_focal_loss(logits, target, reduction="none")
    assert torch.equal(logits, before[0]) and torch.equal(target, before[1]), (
        "dice_loss or sigmoid_focal_loss modified its inputs"
    )
