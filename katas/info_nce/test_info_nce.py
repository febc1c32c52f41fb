"""Tests for the info_nce kata: the symmetric InfoNCE formula, its invariances, temperature,
stability, gradients, dtypes and devices.

The oracle is the formula written out below in float64 (normalise, cosine logits, log-sum-exp
over rows and over columns); every draw is seeded.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

# ---------------------------------------------------------------------------- oracle


def expected(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """The symmetric InfoNCE loss in float64, by the formula."""
    u = z1.double() / z1.double().norm(dim=1, keepdim=True)
    v = z2.double() / z2.double().norm(dim=1, keepdim=True)
    logits = u @ v.T / temperature
    positives = logits.diagonal()
    rows = logits.logsumexp(dim=1) - positives  # classify each z1 among the z2s
    cols = logits.logsumexp(dim=0) - positives  # classify each z2 among the z1s
    return (rows.mean() + cols.mean()) / 2


def pairs(seed: int, n: int = 6, d: int = 8, dtype: torch.dtype = torch.float64, noise=1.0):
    """z1 ~ N(0, 1) and z2 = z1 + noise * N(0, 1): related pairs, losses of order one."""
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=gen, dtype=torch.float64)
    z2 = z1 + noise * torch.randn(n, d, generator=gen, dtype=torch.float64)
    return z1.to(dtype), z2.to(dtype)


def describe(z1, z2, temperature) -> str:
    dtype = str(z1.dtype).removeprefix("torch.")
    return f"info_nce_loss(z1 {dtype} {tuple(z1.shape)}, z2, temperature={temperature})"


def check(solution, z1, z2, temperature=0.07, **tol):
    __tracebackhide__ = True
    tol = tol or tolerance(z1.dtype)
    call = describe(z1, z2, temperature)
    got = solution.info_nce_loss(z1, z2, temperature=temperature)
    assert isinstance(got, torch.Tensor) and got.shape == (), f"{call} returned {got!r}"
    assert got.device == z1.device, f"{call} on {z1.device} returned {got.device}"
    want = expected(z1.cpu(), z2.cpu(), temperature).to(z1.dtype)
    assert_close(got.cpu(), want, msg=lambda m: f"{call}: differs from the formula\n{m}", **tol)
    return got


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    got = solution.info_nce_loss(z1, z2, temperature=0.5)
    assert_close(got, torch.tensor(0.3701), rtol=0, atol=5e-5, msg="README, temperature=0.5")
    got = solution.info_nce_loss(z1, z1, temperature=1.0)
    assert_close(got, torch.tensor(0.3133), rtol=0, atol=5e-5, msg="README, z2 = z1, T=1")


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("temperature", [0.07, 0.5, 1.0, 3.0])
def test_the_loss_matches_the_formula(solution, device, dtype, temperature):
    z1, z2 = pairs(1, dtype=dtype)
    check(solution, z1.to(device), z2.to(device), temperature)


def test_the_default_temperature_is_0_07(solution):
    z1, z2 = pairs(2, noise=3.0)
    got = solution.info_nce_loss(z1, z2)
    assert_close(got, expected(z1, z2, 0.07), msg="info_nce_loss(z1, z2) without temperature")


@pytest.mark.parametrize(("n", "d"), [(8, 3), (3, 16), (5, 5)], ids=["N>D", "N<D", "N=D"])
def test_batch_and_feature_sizes_of_any_kind_match_the_formula(solution, n, d):
    z1, z2 = pairs(3, n, d, noise=2.0)
    check(solution, z1, z2, 0.2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_keeps_the_dtype_and_is_close(solution, dtype):
    z1, z2 = pairs(4, dtype=dtype)
    check(solution, z1, z2, 0.5)


@settings(max_examples=30)
@given(
    n=st.integers(1, 7),
    d=st.integers(1, 7),
    temperature=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**16),
)
def test_drawn_sizes_and_temperatures_match_the_formula(solution, n, d, temperature, seed):
    z1, z2 = pairs(seed, n, d, noise=1.5)
    check(solution, z1, z2, temperature)


# ---------------------------------------------------------------------------- properties


def test_shuffling_the_pairs_together_leaves_the_loss_unchanged(solution):
    z1, z2 = pairs(5, n=7)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(6))
    before = solution.info_nce_loss(z1, z2, temperature=0.3)
    after = solution.info_nce_loss(z1[perm], z2[perm], temperature=0.3)
    assert_close(after, before, msg="shuffling z1 and z2 by the same permutation changed it")


def test_shuffling_only_one_side_breaks_the_pairs_and_changes_the_loss(solution):
    z1, z2 = pairs(7, n=7, noise=0.3)
    perm = torch.tensor([1, 2, 3, 4, 5, 6, 0])
    check(solution, z1, z2[perm], 0.3)
    before = solution.info_nce_loss(z1, z2, temperature=0.3)
    after = solution.info_nce_loss(z1, z2[perm], temperature=0.3)
    assert after > before + 1, (
        f"info_nce_loss with z2's rows shifted by one gave {after.item():.4f}, the matched "
        f"pairs {before.item():.4f}; mismatched pairs should cost much more"
    )


def test_swapping_z1_and_z2_leaves_the_loss_unchanged(solution):
    z1, z2 = pairs(8, n=6, d=4, noise=2.0)
    check(solution, z1, z2, 0.25)
    assert_close(
        solution.info_nce_loss(z2, z1, temperature=0.25),
        solution.info_nce_loss(z1, z2, temperature=0.25),
        msg="info_nce_loss(z2, z1) should equal info_nce_loss(z1, z2): the loss is symmetric",
    )


def test_the_length_of_each_row_does_not_matter(solution):
    z1, z2 = pairs(9)
    lengths = torch.tensor([0.01, 0.5, 3.0, 40.0, 1e3, 7.0], dtype=torch.float64)[:, None]
    before = solution.info_nce_loss(z1, z2, temperature=0.2)
    after = solution.info_nce_loss(z1 * lengths, z2 * lengths.flip(0) * 5, temperature=0.2)
    assert_close(after, before, msg="rescaling rows of z1 and z2 changed the loss")


def test_perfectly_aligned_well_separated_pairs_give_a_loss_near_zero(solution):
    z = torch.eye(5, 8, dtype=torch.float64) * 3.0  # 5 orthogonal directions
    got = solution.info_nce_loss(z, z.clone(), temperature=0.07)
    want = math.log1p(4 * math.exp(-1 / 0.07))  # about 2.5e-6
    assert_close(
        got,
        torch.tensor(want, dtype=torch.float64),
        rtol=1e-6,
        atol=0,
        msg="info_nce_loss(orthogonal z, same z, 0.07)",
    )


def test_lower_temperature_sharpens_aligned_pairs_and_a_high_one_tends_to_log_n(solution):
    z = torch.eye(4, 6, dtype=torch.float64)
    losses = [solution.info_nce_loss(z, z, temperature=t).item() for t in (2.0, 1.0, 0.5, 0.1)]
    assert losses == sorted(losses, reverse=True) and losses[0] > losses[-1], (
        f"aligned orthogonal pairs at temperatures 2, 1, 0.5, 0.1 gave {losses}; "
        "the loss should fall as the temperature falls"
    )
    got = solution.info_nce_loss(z, z, temperature=1e4)
    assert_close(
        got,
        torch.tensor(math.log(4), dtype=torch.float64),
        rtol=1e-3,
        atol=0,
        msg="info_nce_loss at temperature 1e4 should be about log N = log 4",
    )


def test_a_batch_of_one_pair_has_loss_zero(solution):
    z1, z2 = pairs(10, n=1)
    got = solution.info_nce_loss(z1, z2, temperature=0.07)
    assert_close(
        got,
        torch.tensor(0.0, dtype=torch.float64),
        rtol=0,
        atol=1e-12,
        msg="info_nce_loss with N = 1",
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_a_tiny_temperature_stays_finite_and_correct(solution, dtype):
    """Logits up to 1 / 0.005 = 200: exp(200) overflows float32."""
    z1, z2 = pairs(11, noise=0.5, dtype=dtype)
    got = check(solution, z1, z2, 0.005, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(got), f"{describe(z1, z2, 0.005)} = {got}; expected a finite loss"


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_match_the_formula_and_are_finite(solution, device):
    z1, z2 = pairs(12, noise=1.0)
    leaves = [z1.clone().requires_grad_(), z2.clone().requires_grad_()]
    want = torch.autograd.grad(expected(*leaves, 0.1), leaves)
    leaves = [t.to(device).requires_grad_() for t in (z1, z2)]
    got = torch.autograd.grad(solution.info_nce_loss(*leaves, temperature=0.1), leaves)
    for name, g, w in zip(("z1", "z2"), got, want, strict=True):
        assert torch.isfinite(g).all(), f"info_nce_loss: gradient of {name} is not finite"
        assert_close(g.cpu(), w, msg=lambda m, n=name: f"gradient of info_nce_loss wrt {n}\n{m}")


def test_gradcheck_passes_in_float64(solution):
    z1, z2 = pairs(13, n=4, d=3)
    leaves = (z1.requires_grad_(), z2.requires_grad_())

    def loss(a, b):
        return solution.info_nce_loss(a, b, temperature=0.3)

    assert torch.autograd.gradcheck(loss, leaves, fast_mode=True), "gradcheck failed"


def test_the_inputs_are_left_unchanged(solution):
    z1, z2 = pairs(14)
    before = z1.clone(), z2.clone()
    solution.info_nce_loss(z1, z2)
    assert torch.equal(z1, before[0]) and torch.equal(z2, before[1]), (
        "info_nce_loss modified its inputs"
    )
