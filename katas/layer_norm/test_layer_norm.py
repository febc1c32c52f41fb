"""Tests for the layer_norm kata: values, gradients, the module's parameters, edge cases, errors.

The oracle is torch.nn.functional.layer_norm in float64 on the same (rounded) inputs; every
draw is seeded and the outputs are of order one.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def as_tuple(normalized_shape: int | tuple[int, ...]) -> tuple[int, ...]:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def affine(gen: torch.Generator, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """A weight around 1 and a bias of order one, far enough apart that swapping them shows."""
    return 1 + 0.5 * randn(gen, *shape), randn(gen, *shape)


def expected(x, normalized_shape, weight=None, bias=None, eps=1e-5) -> torch.Tensor:
    """torch's layer_norm in float64 on the CPU."""

    def f64(t):
        return None if t is None else t.detach().cpu().double()

    return F.layer_norm(f64(x), as_tuple(normalized_shape), f64(weight), f64(bias), eps)


def shape_of(t: torch.Tensor | None) -> str:
    if t is None:
        return "None"
    kind = "" if t.is_contiguous() else "non-contiguous "
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


def describe(x, normalized_shape, weight=None, bias=None, eps=None) -> str:
    args = [f"x {shape_of(x)}", repr(normalized_shape)]
    args += [f"weight={shape_of(weight)}", f"bias={shape_of(bias)}"]
    if eps is not None:
        args.append(f"eps={eps}")
    return f"layer_norm({', '.join(args)})"


def check_function(solution, x, normalized_shape, weight=None, bias=None, eps=None, **tol):
    """Call the solution's layer_norm and compare with the oracle, within the house
    tolerance for x's dtype unless rtol and atol are given."""
    __tracebackhide__ = True
    call = describe(x, normalized_shape, weight, bias, eps)
    kwargs = {} if eps is None else {"eps": eps}
    want = expected(x, normalized_shape, weight, bias, 1e-5 if eps is None else eps)
    got = solution.layer_norm(x, normalized_shape, weight, bias, **kwargs)
    assert_close(
        got,
        want.to(device=x.device, dtype=x.dtype),
        msg=lambda m: f"{call}: wrong output\n{m}",
        **(tol or tolerance(x.dtype)),
    )


def raised_by(call) -> BaseException | None:
    try:
        call()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    six_places = {"rtol": 0.0, "atol": 1e-6}
    assert_close(
        solution.layer_norm(x, 4),
        torch.tensor([-1.341635, -0.447212, 0.447212, 1.341635]),
        msg=lambda m: (
            f"README example: layer_norm(x, 4) (the unbiased variance gives -1.161895 first)\n{m}"
        ),
        **six_places,
    )
    weight, bias = torch.tensor([1.0, 1.0, 2.0, 2.0]), torch.tensor([0.0, 0.0, 0.0, 1.0])
    assert_close(
        solution.layer_norm(x, 4, weight, bias),
        torch.tensor([-1.341635, -0.447212, 0.894424, 3.683271]),
        msg=lambda m: f"README example: layer_norm(x, 4, weight, bias)\n{m}",
        **six_places,
    )


# ---------------------------------------------------------------------------- the function


FUNCTION_CASES = {
    "int-shape": ((3, 5, 16), 16, True, True),
    "1-tuple": ((3, 5, 16), (16,), True, True),
    "2-d-shape": ((3, 6, 8), (6, 8), True, True),
    "3-d-shape": ((2, 3, 4, 5), (3, 4, 5), True, True),
    "no-batch-dims": ((6, 8), (6, 8), True, True),
    "weight-only": ((3, 6, 8), (6, 8), True, False),
    "bias-only": ((3, 6, 8), (6, 8), False, True),
    "neither": ((3, 6, 8), (6, 8), False, False),
}


@pytest.mark.parametrize("case", FUNCTION_CASES.values(), ids=FUNCTION_CASES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_layer_norm_matches_torch_for_each_normalized_shape_and_affine(solution, device, case):
    x_shape, normalized_shape, with_weight, with_bias = case
    gen = torch.Generator().manual_seed(1)
    x = (2 * randn(gen, *x_shape) + 0.5).to(device)
    weight, bias = (t.to(device) for t in affine(gen, as_tuple(normalized_shape)))
    check_function(
        solution,
        x,
        normalized_shape,
        weight if with_weight else None,
        bias if with_bias else None,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_layer_norm_keeps_the_input_dtype_and_device(solution, device, dtype):
    gen = torch.Generator().manual_seed(2)
    x = randn(gen, 4, 6, 32).to(device=device, dtype=dtype)
    weight, bias = (t.to(device=device, dtype=dtype) for t in affine(gen, (6, 32)))
    check_function(solution, x, (6, 32), weight, bias)


@pytest.mark.parametrize("eps", [None, 0.5], ids=["default-eps", "eps=0.5"])
def test_eps_is_added_to_the_variance_inside_the_square_root(solution, eps):
    """With values of size 0.01 the variance (1e-4) is close to eps, so where eps goes
    and its default (1e-5) change the answer."""
    gen = torch.Generator().manual_seed(3)
    x = 0.01 * randn(gen, 4, 12)
    if eps == 0.5:
        x = 100 * x
    weight, bias = affine(gen, (12,))
    check_function(solution, x, 12, weight, bias, eps=eps)


def test_a_group_sharing_a_large_offset_is_still_normalised_accurately(solution):
    """float32 values 1000 + N(0, 1): E[x^2] - E[x]^2 in float32 loses the variance."""
    gen = torch.Generator().manual_seed(4)
    x = (1000 + randn(gen, 8, 64)).float()
    weight, bias = (t.float() for t in affine(gen, (64,)))
    check_function(solution, x, 64, weight, bias, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    ("dtype", "values"),
    [(torch.float32, (3.75, -2.0)), (torch.float64, (3.7, 0.1))],
    ids=["float32", "float64"],
)
def test_a_constant_group_gives_the_bias_and_no_nan(solution, dtype, values):
    """float32 values are exact binary fractions, so that even the mean's rounding
    cannot leave a residue for 1 / sqrt(eps) to blow up."""
    gen = torch.Generator().manual_seed(5)
    x = torch.full((3, 4, 5), values[0], dtype=dtype)
    x[0] = values[1]  # one more constant group of another value
    weight, bias = (t.to(dtype) for t in affine(gen, (4, 5)))
    got = solution.layer_norm(x, (4, 5), weight, bias)
    call = describe(x, (4, 5), weight, bias)
    assert not got.isnan().any(), f"{call} on constant groups returned NaN; expected the bias"
    assert_close(
        got,
        bias.expand(3, 4, 5),
        msg=lambda m: f"{call} on constant groups: expected the bias everywhere\n{m}",
        rtol=0.0,
        atol=1e-6,
    )


def test_the_inputs_are_left_unchanged(solution):
    gen = torch.Generator().manual_seed(6)
    x = randn(gen, 3, 4, 5)
    weight, bias = affine(gen, (4, 5))
    before = [t.clone() for t in (x, weight, bias)]
    solution.layer_norm(x, (4, 5), weight, bias)
    for name, now, then in zip(("x", "weight", "bias"), (x, weight, bias), before, strict=True):
        assert torch.equal(now, then), f"layer_norm modified its input {name}"


@st.composite
def shapes(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    normalized = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    return {
        "batch": batch,
        "normalized": normalized,
        "as_int": len(normalized) == 1 and draw(st.booleans()),
        "weight": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "strided": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=30)
@given(case=shapes())
def test_drawn_shapes_and_memory_layouts_match_torch(solution, case):
    gen = torch.Generator().manual_seed(case["seed"])
    *lead, last = (*case["batch"], *case["normalized"])
    x = (
        3 * randn(gen, *lead, 2 * last)[..., ::2]
        if case["strided"]
        else 3 * randn(gen, *lead, last)
    )
    weight, bias = affine(gen, case["normalized"])
    normalized_shape = case["normalized"][0] if case["as_int"] else case["normalized"]
    check_function(
        solution,
        x,
        normalized_shape,
        weight if case["weight"] else None,
        bias if case["bias"] else None,
    )


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("x_shape", "normalized_shape"),
    [((3, 5, 16), (16,)), ((2, 3, 6, 8), (6, 8))],
    ids=["1-d-shape", "2-d-shape"],
)
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_x_weight_and_bias_match_torch(solution, device, x_shape, normalized_shape):
    gen = torch.Generator().manual_seed(7)
    x = randn(gen, *x_shape)
    weight, bias = affine(gen, normalized_shape)
    upstream = randn(gen, *x_shape)
    call = describe(x, normalized_shape, weight, bias)

    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
    want = torch.autograd.grad(
        (F.layer_norm(leaves[0], normalized_shape, *leaves[1:]) * upstream).sum(), leaves
    )

    leaves = [t.to(device).requires_grad_() for t in (x, weight, bias)]
    out = solution.layer_norm(leaves[0], normalized_shape, *leaves[1:])
    got = torch.autograd.grad((out * upstream.to(device)).sum(), leaves, allow_unused=True)
    for name, g, w in zip(("x", "weight", "bias"), got, want, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(
            g, w.to(device), msg=lambda m, name=name: f"{call} on {device}: gradient of {name}\n{m}"
        )


# ---------------------------------------------------------------------------- the module


@pytest.mark.parametrize(
    ("normalized_shape", "shape"),
    [(8, (8,)), ((8,), (8,)), ((3, 4), (3, 4))],
    ids=["int", "1-tuple", "2-d"],
)
def test_the_module_has_weight_ones_and_bias_zeros_of_normalized_shape(
    solution, normalized_shape, shape
):
    module = solution.LayerNorm(normalized_shape)
    call = f"LayerNorm({normalized_shape!r})"
    state = module.state_dict()
    assert sorted(state) == ["bias", "weight"], (
        f"{call}.state_dict() has keys {sorted(state)}; expected exactly bias and weight"
    )
    for name, fill in (("weight", 1.0), ("bias", 0.0)):
        param = getattr(module, name)
        assert isinstance(param, torch.nn.Parameter), f"{call}.{name} is not an nn.Parameter"
        assert tuple(param.shape) == shape, (
            f"{call}.{name} has shape {tuple(param.shape)}; expected {shape}"
        )
        assert torch.equal(param.detach(), torch.full(shape, fill)), (
            f"{call}.{name} should start as {'ones' if fill else 'zeros'}"
        )


def test_the_module_without_elementwise_affine_has_no_parameters(solution):
    module = solution.LayerNorm((4, 5), elementwise_affine=False)
    call = "LayerNorm((4, 5), elementwise_affine=False)"
    assert list(module.state_dict()) == [], (
        f"{call}.state_dict() has keys {list(module.state_dict())}; expected none"
    )
    assert list(module.parameters()) == [], f"{call} has parameters; expected none"
    assert getattr(module, "weight", None) is None and getattr(module, "bias", None) is None, (
        f"{call}.weight and .bias should be None"
    )
    x = 2 * randn(torch.Generator().manual_seed(8), 3, 4, 5)
    assert_close(module(x), expected(x, (4, 5)), msg=lambda m: f"{call}(x): wrong output\n{m}")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_module_with_loaded_weights_matches_torch(solution, device, dtype):
    gen = torch.Generator().manual_seed(9)
    module = solution.LayerNorm((6, 16)).to(device=device, dtype=dtype)
    weight, bias = affine(gen, (6, 16))
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    x = randn(gen, 3, 6, 16).to(device=device, dtype=dtype)
    want = expected(x, (6, 16), module.weight, module.bias)
    assert_close(
        module(x),
        want.to(device=device, dtype=dtype),
        msg=lambda m: f"LayerNorm((6, 16)) with loaded weights on x {shape_of(x)}\n{m}",
        **tolerance(dtype),
    )


def test_the_module_uses_its_eps_and_passes_gradients_to_weight_and_bias(solution):
    gen = torch.Generator().manual_seed(10)
    module = solution.LayerNorm(12, eps=0.5).double()
    weight, bias = affine(gen, (12,))
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    x, upstream = randn(gen, 4, 12), randn(gen, 4, 12)
    call = "LayerNorm(12, eps=0.5)"

    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
    want_out = F.layer_norm(leaves[0], (12,), *leaves[1:], eps=0.5)
    want = torch.autograd.grad((want_out * upstream).sum(), leaves)

    leaves = [x.clone().requires_grad_(), module.weight, module.bias]
    out = module(leaves[0])
    assert_close(out, want_out.detach(), msg=lambda m: f"{call}(x): wrong output\n{m}")
    got = torch.autograd.grad((out * upstream).sum(), leaves, allow_unused=True)
    for name, g, w in zip(("x", "weight", "bias"), got, want, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(g, w, msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("x_shape", "normalized_shape"),
    [((3, 5, 16), 8), ((3, 6, 8), (8, 6)), ((3, 6, 8), (4, 8)), ((8,), (2, 8))],
    ids=["int", "swapped", "first-dim", "too-few-dims"],
)
def test_mismatched_trailing_dims_raise_a_value_error_naming_the_shapes(
    solution, x_shape, normalized_shape
):
    x = randn(torch.Generator().manual_seed(11), *x_shape)
    for what, call in [
        (describe(x, normalized_shape), lambda: solution.layer_norm(x, normalized_shape)),
        (
            f"LayerNorm({normalized_shape!r})(x {shape_of(x)})",
            lambda: solution.LayerNorm(normalized_shape).double()(x),
        ),
    ]:
        exc = raised_by(call)
        assert exc is not None, f"{what} returned a result; expected ValueError"
        assert isinstance(exc, ValueError), (
            f"{what} raised {type(exc).__name__}: {exc}; expected ValueError"
        )
        sizes = [str(n) for n in (*x_shape, *as_tuple(normalized_shape))]
        assert all(s in str(exc) for s in sizes), (
            f"{what} raised ValueError({str(exc)!r}); the message should name x's shape "
            f"{x_shape} and normalized_shape {normalized_shape!r}"
        )
