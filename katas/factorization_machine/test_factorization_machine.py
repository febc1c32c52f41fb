"""Tests for the factorization_machine kata: parameters, values, one-hot inputs, dtypes,
devices, gradients, memory (a dispatch audit of every tensor the forward creates), learning.

The oracle is the model's definition, a double loop over the pairs i < j written below and
run in float64 on the module's own (rounded) weights after the tests have loaded seeded
ones into it. Every draw is seeded and scaled so that the outputs are of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, TensorAudit, assert_close, tolerance

PARAMETERS = ["V", "w", "w0"]
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def pairs_by_loop(x: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """sum over i < j of <V_i, V_j> x_i x_j, one pair at a time: (B,)."""
    n = x.shape[1]
    total = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(n):
        for j in range(i + 1, n):
            total = total + (V[i] * V[j]).sum() * x[:, i] * x[:, j]
    return total


def fm_by_loop(x, w0, w, V) -> torch.Tensor:
    """The definition: w0 + x . w + sum over pairs i < j of <V_i, V_j> x_i x_j."""
    return w0 + x @ w + pairs_by_loop(x, V)


def fm_by_pair_matrix(x, w0, w, V) -> torch.Tensor:
    """The same, with the (B, n, n) matrix of pairs: for sizes a Python loop is too slow."""
    pairs = x[:, :, None] * x[:, None, :] * (V @ V.T)  # (B, n, n)
    return w0 + x @ w + pairs.triu(diagonal=1).sum(dim=(1, 2))


def load_weights(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Overwrite w0, w and V with seeded draws, keeping the module's dtype and device, scaled
    so that for x ~ N(0, 1) every part of the output is of order one: w0 ~ N(0, 1/4),
    w ~ N(0, 1/n), V ~ N(0, sqrt(2 / (n^2 k))), so the pairwise sum has variance about 1."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(module.named_parameters())
    n, k = params["V"].shape
    with torch.no_grad():
        params["w0"].copy_(randn(gen) / 2)
        params["w"].copy_(randn(gen, n) / math.sqrt(n))
        params["V"].copy_(randn(gen, n, k) * (2 / (n * n * k)) ** 0.25)
    return module


def built(solution, n: int, k: int, seed: int, dtype=torch.float64, device="cpu"):
    fm = solution.FactorizationMachine(n, k).to(device=device, dtype=dtype)
    return load_weights(fm, seed)


def float64_weights(fm: torch.nn.Module) -> list[torch.Tensor]:
    """w0, w, V as float64 CPU copies (the module's own, rounded, values)."""
    params = dict(fm.named_parameters())
    return [params[n].detach().cpu().double() for n in ("w0", "w", "V")]


def expected(fm: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The double loop in float64 on the CPU, with the module's weights and x as given."""
    return fm_by_loop(x.detach().cpu().double(), *float64_weights(fm))


def shape_of(t: torch.Tensor) -> str:
    kind = "" if t.is_contiguous() else "non-contiguous "
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


def check_value(fm, x, want, call, **tol):
    """fm(x) equals want (float64, CPU), cast to x's dtype and device."""
    __tracebackhide__ = True
    tol = tol or tolerance(x.dtype)
    got = fm(x)
    assert isinstance(got, torch.Tensor) and got.shape == (x.shape[0],), (
        f"{call} on x {shape_of(x)} returned "
        f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}; "
        f"expected shape ({x.shape[0]},), one prediction per row (not a (B, 1) column)"
    )
    assert_close(
        got,
        want.to(device=x.device, dtype=x.dtype),
        msg=lambda m: f"{call} on x {shape_of(x)}: wrong output\n{m}",
        **tol,
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    fm = solution.FactorizationMachine(3, 2)
    with torch.no_grad():
        fm.w0.copy_(torch.tensor(0.5))
        fm.w.copy_(torch.tensor([1.0, -1.0, 2.0]))
        fm.V.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
        out = fm(torch.tensor([[1.0, 2.0, 0.5], [0.0, 1.0, 0.0]]))
    assert_close(
        out,
        torch.tensor([4.5, -0.5]),
        msg=lambda m: (
            "README example: expected [4.5, -0.5] (the pairs add 4; counting i = j as well "
            "gives 9.5, forgetting the 1/2 gives 8.5, not squaring V in the correction 4.75)"
            f"\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("n", "k"), [(5, 3), (1, 1), (12, 1), (3, 7)], ids=str)
def test_the_parameters_are_a_scalar_w0_a_vector_w_and_a_factor_matrix_v(solution, n, k):
    fm = solution.FactorizationMachine(n, k)
    call = f"FactorizationMachine({n}, {k})"
    shapes = {name: tuple(p.shape) for name, p in fm.named_parameters()}
    want = {"w0": (), "w": (n,), "V": (n, k)}
    assert shapes == want, (
        f"{call} has parameters {shapes}; expected exactly {want} (w0 is 0-dim, shape (), not (1,))"
    )
    assert sorted(fm.state_dict()) == PARAMETERS, (
        f"{call}.state_dict() has keys {sorted(fm.state_dict())}; expected exactly {PARAMETERS}"
    )
    for name, p in fm.named_parameters():
        assert p.requires_grad and p.dtype == torch.float32, (
            f"{call}.{name} should be a trainable float32 parameter; it is {p.dtype}, "
            f"requires_grad={p.requires_grad}"
        )
        assert torch.isfinite(p).all(), f"{call}.{name} is initialised with inf or nan"


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_matches_a_double_loop_over_the_pairs(solution, device, dtype):
    fm = built(solution, 16, 4, seed=1, dtype=dtype, device=device)
    x = randn(torch.Generator().manual_seed(2), 24, 16).to(device=device, dtype=dtype)
    check_value(fm, x, expected(fm, x), "FactorizationMachine(16, 4)")


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_the_output_has_one_prediction_per_row(solution, batch):
    fm = built(solution, 6, 3, seed=3)
    x = randn(torch.Generator().manual_seed(4), batch, 6)
    check_value(fm, x, expected(fm, x), "FactorizationMachine(6, 3)")


def test_one_hot_fields_interact_only_through_the_active_categories(solution):
    """Three categorical fields of 4, 5 and 3 categories, one-hot encoded, and two numeric
    features: 14 columns, at most 5 non-zero per row, as a recommender's input looks."""
    gen = torch.Generator().manual_seed(5)
    rows, fields = 32, (4, 5, 3)
    parts = [
        torch.nn.functional.one_hot(torch.randint(size, (rows,), generator=gen), size)
        for size in fields
    ]
    x = torch.cat([*(p.double() for p in parts), randn(gen, rows, 2)], dim=1)  # (32, 14)
    fm = built(solution, 14, 4, seed=6)
    check_value(fm, x, expected(fm, x), "FactorizationMachine(14, 4) on one-hot fields")

    # a row with a single active category has no pair at all: w0 + w_i
    lone = torch.zeros(3, 14, dtype=torch.float64)
    lone[[0, 1, 2], [0, 6, 13]] = 1.0
    w0, w, _ = float64_weights(fm)
    check_value(fm, lone, w0 + w[[0, 6, 13]], "FactorizationMachine(14, 4) on one-hot rows")


def test_a_single_feature_has_no_pairs(solution):
    fm = built(solution, 1, 3, seed=7)
    x = randn(torch.Generator().manual_seed(8), 5, 1)
    w0, w, _ = float64_weights(fm)
    check_value(fm, x, w0 + x[:, 0] * w[0], "FactorizationMachine(1, 3): y = w0 + w_0 x_0")


def test_an_all_zero_input_gives_w0(solution):
    fm = built(solution, 9, 2, seed=9)
    x = torch.zeros(4, 9, dtype=torch.float64)
    check_value(fm, x, float64_weights(fm)[0].expand(4), "FactorizationMachine(9, 2) on zeros")


def drawn_input(gen: torch.Generator, rows: int, n: int, how: str) -> torch.Tensor:
    """float64 x (rows, n): contiguous, a transposed view, or every other column."""
    if how == "transposed":
        return randn(gen, n, rows).T
    if how == "strided":
        return randn(gen, rows, 2 * n)[:, ::2]
    return randn(gen, rows, n)


@settings(max_examples=30)
@given(
    rows=st.integers(1, 5),
    n=st.integers(1, 9),
    k=st.integers(1, 5),
    how=st.sampled_from(["contiguous", "transposed", "strided"]),
    seed=st.integers(0, 2**16),
)
def test_drawn_sizes_and_memory_layouts_match_the_double_loop(solution, rows, n, k, how, seed):
    fm = built(solution, n, k, seed)
    x = drawn_input(torch.Generator().manual_seed(seed + 1), rows, n, how)
    check_value(fm, x, expected(fm, x), f"FactorizationMachine({n}, {k})")


def test_the_input_is_left_unchanged(solution):
    fm = built(solution, 8, 3, seed=10)
    x = randn(torch.Generator().manual_seed(11), 4, 8)
    before = x.clone()
    fm(x)
    assert torch.equal(x, before), "FactorizationMachine(8, 3)(x) modified its input x"


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_x_and_every_parameter_match_the_double_loop(solution, device):
    fm = built(solution, 7, 3, seed=12, device=device)
    gen = torch.Generator().manual_seed(13)
    x, upstream = randn(gen, 5, 7), randn(gen, 5)
    call = f"FactorizationMachine(7, 3) on x {shape_of(x)}"

    leaves = [x.clone().requires_grad_(), *(t.requires_grad_() for t in float64_weights(fm))]
    want = torch.autograd.grad((fm_by_loop(*leaves) * upstream).sum(), leaves)

    params = dict(fm.named_parameters())
    inputs = [x.to(device).requires_grad_(), params["w0"], params["w"], params["V"]]
    out = fm(inputs[0])
    got = torch.autograd.grad((out * upstream.to(device)).sum(), inputs, allow_unused=True)
    for name, g, w in zip(["x", "w0", "w", "V"], got, want, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


# ---------------------------------------------------------------------------- memory


def test_no_tensor_grows_with_the_square_of_the_number_of_features(solution):
    """B = 4 rows of n = 512 features, k = 4 factors. The matrix of pairs x x^T holds
    B * n * n = 1,048,576 elements and V V^T holds n * n = 262,144; x times V broadcast to
    (B, n, k) holds only 8,192. We allow 4 * B * n * k = 32,768 elements per tensor."""
    B, n, k = 4, 512, 4
    fm = built(solution, n, k, seed=14)
    x = randn(torch.Generator().manual_seed(15), B, n)
    audit = TensorAudit()
    with audit:
        out = fm(x)
    call = f"FactorizationMachine({n}, {k}) on x {shape_of(x)}"
    assert_close(
        out,
        fm_by_pair_matrix(x, *float64_weights(fm)),
        msg=lambda m: f"{call}: wrong output\n{m}",
    )
    limit = 4 * B * n * k
    too_big = [(op, shape) for op, shape in audit.produced if math.prod(shape) > limit]
    assert not too_big, (
        f"{call} made {len(too_big)} tensors of more than 4 * B * n * k = {limit} elements, "
        f"first {too_big[0][0]} -> {too_big[0][1]}: the pairwise term costs O(k n) per row "
        "by 1/2 sum_f [(sum_i V_if x_i)^2 - sum_i V_if^2 x_i^2]; never build x x^T or V V^T"
    )


# ---------------------------------------------------------------------------- learning


def adam(params: list[torch.Tensor], loss_of, steps: int, lr: float) -> float:
    """Minimise loss_of() over params by full-batch Adam with torch.optim.Adam's defaults
    (betas 0.9 and 0.999, eps 1e-8, bias-corrected moments), written out here because
    torch.optim's first use imports torch._dynamo, seconds of waiting. Returns the first loss."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    first = None
    for t in range(1, steps + 1):
        loss = loss_of()
        first = loss.item() if first is None else first
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, m_p, v_p in zip(params, grads, m, v, strict=True):
                m_p.mul_(b1).add_(g, alpha=1 - b1)
                v_p.mul_(b2).addcmul_(g, g, value=1 - b2)
                step = (m_p / (1 - b1**t)) / ((v_p / (1 - b2**t)).sqrt() + eps)
                p.sub_(lr * step)
    return first


def test_adam_fits_data_drawn_from_a_random_factorization_machine(solution):
    """A teacher FM (n = 10, k = 3) labels 256 Gaussian rows; a student started from w0 = 0,
    w = 0 and small random factors reaches a mean squared error below 1e-3 (the labels have
    a variance of about 5) within 200 full-batch Adam steps at lr 0.05."""
    n, k, rows = 10, 3, 256
    gen = torch.Generator().manual_seed(16)
    teacher = [torch.tensor(0.3, dtype=torch.float64), randn(gen, n) / 2, randn(gen, n, k) / 2]
    x = randn(gen, rows, n)
    y = fm_by_loop(x, *teacher)

    student = solution.FactorizationMachine(n, k).double()
    params = dict(student.named_parameters())
    with torch.no_grad():
        params["w0"].zero_()
        params["w"].zero_()
        params["V"].copy_(randn(gen, n, k) / 10)
    leaves = [params["w0"], params["w"], params["V"]]
    first = adam(leaves, lambda: ((student(x) - y) ** 2).mean(), steps=200, lr=0.05)
    with torch.no_grad():
        mse = ((student(x) - y) ** 2).mean().item()
    assert mse < 1e-3, (
        f"FactorizationMachine({n}, {k}) trained by 200 Adam steps (lr 0.05) on data from a "
        f"random FM: mean squared error {mse:.3g} (it started at {first:.3g}); expected below "
        "1e-3. Check that every parameter receives a gradient"
    )
