"""Tests for the rms_norm kata: values, dtypes, gradients, the parameter, edge cases, errors.

Two oracles in float64 on the same (rounded) inputs and weight: the formula written out
below, and torch.nn.RMSNorm loaded with the same weight and eps. Every draw is seeded and
the outputs are of order one.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def rms_math(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """x * rsqrt(mean(x^2 over the last dim) + eps) * weight."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


def expected(module: torch.nn.Module, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The formula in float64 on the CPU with the module's own (rounded) weight."""
    with torch.no_grad():
        return rms_math(x.detach().cpu().double(), module.weight.detach().cpu().double(), eps)


def built(solution, dim: int, seed: int, eps: float | None = None, **to) -> torch.nn.Module:
    """RMSNorm(dim[, eps]) moved as asked, its weight drawn around 1 (some entries negative)."""
    module = solution.RMSNorm(dim) if eps is None else solution.RMSNorm(dim, eps=eps)
    module = module.to(**to)
    with torch.no_grad():
        module.weight.copy_(1 + 0.7 * randn(torch.Generator().manual_seed(seed), dim))
    return module


def shape_of(t: torch.Tensor) -> str:
    kind = "" if t.is_contiguous() else "non-contiguous "
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


def check(module, x, call: str, eps: float = 1e-6, **tol) -> None:
    __tracebackhide__ = True
    want = expected(module, x, eps).to(device=x.device, dtype=x.dtype)
    assert_close(
        module(x),
        want,
        msg=lambda m: f"{call} on x {shape_of(x)}: wrong output\n{m}",
        **(tol or tolerance(x.dtype)),
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    norm = solution.RMSNorm(4)
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    six_places = {"rtol": 0.0, "atol": 1e-6}
    with torch.no_grad():
        out = norm(x)
    assert_close(
        out,
        torch.tensor([0.365148, 0.730297, 1.095445, 1.460593]),
        msg=lambda m: (
            f"README example: RMSNorm(4)(x) (subtracting the mean gives -1.341640 first)\n{m}"
        ),
        **six_places,
    )
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 0.5, 2.0, -1.0]))
        out = norm(x)
    assert_close(
        out,
        torch.tensor([0.365148, 0.365148, 2.190890, -1.460593]),
        msg=lambda m: f"README example: RMSNorm(4) with weight [1, 0.5, 2, -1]\n{m}",
        **six_places,
    )


# ---------------------------------------------------------------------------- the parameter


def test_the_module_has_one_weight_of_ones_of_shape_dim(solution):
    norm = solution.RMSNorm(12)
    state = norm.state_dict()
    assert list(state) == ["weight"], (
        f"RMSNorm(12).state_dict() has keys {list(state)}; expected exactly ['weight']"
    )
    assert isinstance(norm.weight, torch.nn.Parameter), "RMSNorm(12).weight is not a Parameter"
    assert torch.equal(norm.weight.detach(), torch.ones(12)), (
        f"RMSNorm(12).weight should start as ones of shape (12,); got {shape_of(norm.weight)}"
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_a_module_cast_to_the_input_dtype_matches_the_formula(solution, device, dtype):
    norm = built(solution, 64, 1, device=device, dtype=dtype)
    x = (2 * randn(torch.Generator().manual_seed(2), 3, 5, 64)).to(device=device, dtype=dtype)
    check(norm, x, f"RMSNorm(64).to({dtype})")


@pytest.mark.parametrize("eps", [None, 1e-6, 0.1], ids=["default-eps", "eps=1e-6", "eps=0.1"])
@pytest.mark.parametrize("device", DEVICES)
def test_the_module_matches_torch_nn_rmsnorm_with_the_same_weight_and_eps(solution, device, eps):
    norm = built(solution, 32, 3, eps=eps, device=device, dtype=torch.float64)
    oracle = torch.nn.RMSNorm(32, eps=1e-6 if eps is None else eps, dtype=torch.float64)
    with torch.no_grad():
        oracle.weight.copy_(norm.weight.cpu())
    x = 3 * randn(torch.Generator().manual_seed(4), 4, 6, 32)
    with torch.no_grad():
        want = oracle(x)
    call = f"RMSNorm(32{'' if eps is None else f', eps={eps}'})"
    assert_close(
        norm(x.to(device)),
        want.to(device),
        msg=lambda m: f"{call} on {device}: differs from torch.nn.RMSNorm\n{m}",
    )


def test_eps_is_1e_6_by_default_and_goes_inside_the_square_root(solution):
    """With values of size 1e-3 the mean square (1e-6) equals eps, so where eps goes and
    its default change the answer."""
    x = 1e-3 * randn(torch.Generator().manual_seed(5), 4, 16)
    check(built(solution, 16, 6, dtype=torch.float64), x, "RMSNorm(16)")
    check(built(solution, 16, 6, eps=1e-5, dtype=torch.float64), x, "RMSNorm(16, eps=1e-5)", 1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_a_float32_module_on_half_input_returns_its_dtype_or_float32(solution, dtype):
    norm = built(solution, 64, 7)
    x = (2 * randn(torch.Generator().manual_seed(8), 3, 64)).to(dtype)
    call = f"float32 RMSNorm(64) on x {shape_of(x)}"
    out = norm(x)
    assert out.dtype in (dtype, torch.float32), (
        f"{call} returned {out.dtype}; expected {dtype} or float32"
    )
    assert_close(
        out.double(),
        expected(norm, x),
        msg=lambda m: f"{call}: wrong output\n{m}",
        **tolerance(dtype),
    )


def test_large_float16_values_whose_squares_overflow_are_still_normalised(solution):
    """Values of size 300 in float16: x^2 (9e4) overflows float16's largest value, 65504,
    so the mean square must be computed in float32."""
    norm = built(solution, 64, 16, dtype=torch.float16)
    x = (300 * randn(torch.Generator().manual_seed(17), 4, 64)).to(torch.float16)
    check(norm, x, "RMSNorm(64).to(torch.float16)")


def test_a_zero_vector_gives_zeros_and_no_nan(solution):
    norm = built(solution, 8, 9, dtype=torch.float64)
    x = randn(torch.Generator().manual_seed(10), 3, 8)
    x[1] = 0.0
    out = norm(x)
    assert not out.isnan().any(), "RMSNorm(8) returned NaN for a zero vector; expected zeros"
    check(norm, x, "RMSNorm(8) with a zero row")


def test_the_input_is_left_unchanged(solution):
    norm = built(solution, 8, 11, dtype=torch.float64)
    x = randn(torch.Generator().manual_seed(12), 3, 8)
    before = x.clone()
    norm(x)
    assert torch.equal(x, before), "RMSNorm(8)(x) modified its input x"


@st.composite
def cases(draw):
    return {
        "batch": tuple(draw(st.lists(st.integers(1, 4), max_size=3))),
        "dim": draw(st.integers(1, 9)),
        "eps": draw(st.sampled_from([None, 1e-5, 0.3])),
        "scale": draw(st.sampled_from([0.01, 1.0, 50.0])),
        "strided": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=30)
@given(case=cases())
def test_drawn_shapes_scales_eps_and_memory_layouts_match_the_formula(solution, case):
    gen = torch.Generator().manual_seed(case["seed"])
    batch, dim, eps = case["batch"], case["dim"], case["eps"]
    x = randn(gen, *batch, 2 * dim)[..., ::2] if case["strided"] else randn(gen, *batch, dim)
    x = case["scale"] * x
    norm = built(solution, dim, case["seed"] + 1, eps=eps, dtype=torch.float64)
    call = f"RMSNorm({dim}{'' if eps is None else f', eps={eps}'})"
    check(norm, x, call, 1e-6 if eps is None else eps)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_x_and_weight_match_the_formula(solution, device):
    norm = built(solution, 16, 13, device=device, dtype=torch.float64)
    gen = torch.Generator().manual_seed(14)
    x, upstream = randn(gen, 2, 5, 16), randn(gen, 2, 5, 16)
    call = f"RMSNorm(16) on x {shape_of(x)} on {device}"

    leaves = [x.clone().requires_grad_(), norm.weight.detach().cpu().clone().requires_grad_()]
    want = torch.autograd.grad((rms_math(*leaves) * upstream).sum(), leaves)

    leaves = [x.to(device).requires_grad_(), norm.weight]
    out = norm(leaves[0])
    got = torch.autograd.grad((out * upstream.to(device)).sum(), leaves, allow_unused=True)
    for name, g, w in zip(("x", "weight"), got, want, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("x_shape", [(3, 7), (7,), (3, 8, 1)], ids=["batched", "1-d", "last-1"])
def test_a_last_dim_other_than_dim_raises_a_value_error_naming_both(solution, x_shape):
    norm = solution.RMSNorm(8).double()
    x = randn(torch.Generator().manual_seed(15), *x_shape)
    call = f"RMSNorm(8)(x {shape_of(x)})"
    try:
        norm(x)
    except NotImplementedError:
        raise
    except Exception as exc:  # judged below
        assert isinstance(exc, ValueError), (
            f"{call} raised {type(exc).__name__}: {exc}; expected ValueError"
        )
        assert "8" in str(exc) and str(x_shape[-1]) in str(exc), (
            f"{call} raised ValueError({str(exc)!r}); the message should name 8 and {x_shape[-1]}"
        )
    else:
        raise AssertionError(f"{call} returned a result; expected ValueError")
