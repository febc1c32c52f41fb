"""Tests for the mlp kata: ViT's GELU Mlp and Llama's SwiGLU, their parameters, values,
gradients and dropout.

The oracle is the formula written out below in float64 (GELU by torch.special.erf), run on
the module's own weights after the tests have loaded seeded ones into it. Dropout is judged
by what it does to the numbers (zeros, and survivors scaled by 1 / (1 - p) per dropout),
never by reproducing torch's random stream.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

MLP_PARAMETERS = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
SWIGLU_PARAMETERS = ["w1.weight", "w2.weight", "w3.weight"]
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def load_weights(module: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter with seeded draws, keeping the module's dtype and device:
    weights N(0, 1/fan_in), so that each linear layer keeps its input's scale, biases
    N(0, 1/4). Pre-activations are then of order one, where the exact GELU and its tanh
    approximation differ by up to 5e-4."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            draw = randn(gen, *p.shape)
            p.copy_(draw / math.sqrt(p.shape[-1]) if p.ndim == 2 else draw / 2)
    return module


def built(module: nn.Module, seed: int, dtype=torch.float64, device="cpu") -> nn.Module:
    """The module moved to dtype and device, with seeded weights."""
    return load_weights(module.to(device=device, dtype=dtype), seed)


def gelu(h: torch.Tensor) -> torch.Tensor:
    """The exact GELU, h * Phi(h), written with erf."""
    return 0.5 * h * (1 + torch.special.erf(h / math.sqrt(2)))


def silu(a: torch.Tensor) -> torch.Tensor:
    return a * torch.sigmoid(a)


def mlp_math(x, fc1_weight, fc1_bias, fc2_weight, fc2_bias) -> torch.Tensor:
    return gelu(x @ fc1_weight.T + fc1_bias) @ fc2_weight.T + fc2_bias


def swiglu_math(x, w1, w2, w3) -> torch.Tensor:
    return (silu(x @ w1.T) * (x @ w3.T)) @ w2.T


def float64_leaves(module: nn.Module, names: list[str]) -> list[torch.Tensor]:
    """The module's named parameters as float64 CPU copies that track gradients."""
    params = dict(module.named_parameters())
    return [params[n].detach().cpu().double().requires_grad_() for n in names]


def expected_mlp(mlp: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """fc2(gelu(fc1(x))) in float64 on the CPU with the module's own (rounded) weights."""
    with torch.no_grad():
        return mlp_math(x.detach().cpu().double(), *float64_leaves(mlp, MLP_PARAMETERS))


def expected_swiglu(swiglu: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """w2(silu(w1 x) * w3 x) in float64 on the CPU with the module's own (rounded) weights."""
    with torch.no_grad():
        return swiglu_math(x.detach().cpu().double(), *float64_leaves(swiglu, SWIGLU_PARAMETERS))


def shape_of(t: torch.Tensor) -> str:
    kind = "" if t.is_contiguous() else "non-contiguous "
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


def parameter_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


def check_value(module, x, want, call, dtype):
    __tracebackhide__ = True
    got = module(x)
    assert_close(
        got,
        want.to(device=x.device, dtype=dtype),
        msg=lambda m: f"{call} on x {shape_of(x)}: wrong output\n{m}",
        **tolerance(dtype),
    )


# ---------------------------------------------------------------------------- parameters


MLP_SIZES = {
    "all-defaults": ((8,), {}, (8, 8)),
    "hidden-given": ((8,), {"hidden_features": 32}, (32, 8)),
    "out-given": ((8,), {"out_features": 3}, (8, 3)),
    "all-given": ((8, 20, 5), {}, (20, 5)),
    "keywords": ((6,), {"hidden_features": 12, "out_features": 4, "drop": 0.1}, (12, 4)),
}


@pytest.mark.parametrize("case", MLP_SIZES.values(), ids=MLP_SIZES.keys())
def test_mlp_has_fc1_and_fc2_with_biases_and_hidden_and_out_default_to_in(solution, case):
    args, kwargs, (hidden, out) = case
    n_in = args[0]
    call = f"Mlp({', '.join([*map(str, args), *(f'{k}={v}' for k, v in kwargs.items())])})"
    mlp = solution.Mlp(*args, **kwargs)
    want = {
        "fc1.weight": (hidden, n_in),
        "fc1.bias": (hidden,),
        "fc2.weight": (out, hidden),
        "fc2.bias": (out,),
    }
    assert parameter_shapes(mlp) == want, (
        f"{call} has parameters {parameter_shapes(mlp)}; expected exactly {want} "
        "(hidden_features and out_features default to in_features)"
    )
    assert sorted(mlp.state_dict()) == sorted(MLP_PARAMETERS), (
        f"{call}.state_dict() has keys {sorted(mlp.state_dict())}; expected exactly "
        f"{sorted(MLP_PARAMETERS)}"
    )
    assert all(p.requires_grad and p.dtype == torch.float32 for p in mlp.parameters()), (
        f"{call}: every parameter should be a trainable float32 tensor"
    )


def test_mlp_has_submodules_named_fc1_act_drop_and_fc2(solution):
    mlp = solution.Mlp(4, 8, 2, drop=0.5)
    children = dict(mlp.named_children())
    missing = [n for n in ("fc1", "act", "drop", "fc2") if n not in children]
    assert not missing, (
        f"Mlp(4, 8, 2, drop=0.5) has submodules {sorted(children)}; missing {missing} "
        "(fc1 and fc2 linear layers, act the GELU, drop the dropout)"
    )


@pytest.mark.parametrize(("dim", "hidden"), [(8, 16), (6, 4), (1, 3)], ids=str)
def test_swiglu_has_three_bias_free_weights_of_the_right_shapes(solution, dim, hidden):
    swiglu = solution.SwiGLU(dim, hidden)
    want = {"w1.weight": (hidden, dim), "w2.weight": (dim, hidden), "w3.weight": (hidden, dim)}
    assert parameter_shapes(swiglu) == want, (
        f"SwiGLU({dim}, {hidden}) has parameters {parameter_shapes(swiglu)}; expected exactly "
        f"{want}: bias-free linears, hidden_dim used as given"
    )
    assert sorted(swiglu.state_dict()) == SWIGLU_PARAMETERS, (
        f"SwiGLU({dim}, {hidden}).state_dict() has keys {sorted(swiglu.state_dict())}; "
        f"expected exactly {SWIGLU_PARAMETERS} (no biases)"
    )


# ---------------------------------------------------------------------------- the activation


def test_mlp_act_is_the_exact_erf_gelu_not_the_tanh_approximation(solution):
    mlp = solution.Mlp(4)
    h = torch.linspace(-5, 5, 201, dtype=torch.float64)  # the two differ most near |h| = 2.7
    got = mlp.act(h)
    assert_close(
        got,
        gelu(h),
        msg=lambda m: (
            "Mlp(4).act(h) for h in [-5, 5] should be the exact GELU 0.5 h (1 + erf(h / sqrt 2)), "
            f"not tanh's approximation (off by up to 5e-4) nor ReLU\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_examples_give_the_numbers_they_show(solution):
    six_places = {"rtol": 0, "atol": 5e-7}
    mlp = solution.Mlp(2, hidden_features=3, out_features=1)
    with torch.no_grad():
        mlp.fc1.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 1]]))
        mlp.fc1.bias.copy_(torch.tensor([1.0, 0, 0]))
        mlp.fc2.weight.copy_(torch.tensor([[1.0, 1, 1]]))
        mlp.fc2.bias.zero_()
    x = torch.tensor([1.0, -2.0])
    with torch.no_grad():
        hidden, out = mlp.act(mlp.fc1(x)), mlp(x)
    assert_close(
        hidden,
        torch.tensor([1.954500, -0.045500, -0.158655]),
        msg=lambda m: f"README Mlp example: act(fc1(x)) (tanh's GELU gives 1.954598 ...)\n{m}",
        **six_places,
    )
    assert_close(
        out, torch.tensor([1.750344]), msg=lambda m: f"README Mlp example: out\n{m}", **six_places
    )

    swiglu = solution.SwiGLU(2, 2)
    with torch.no_grad():
        swiglu.w1.weight.copy_(torch.tensor([[1.0, 0], [0, 1]]))
        swiglu.w2.weight.copy_(torch.tensor([[1.0, 0], [1, -1]]))
        swiglu.w3.weight.copy_(torch.tensor([[1.0, 1], [1, 0]]))
        out = swiglu(torch.tensor([1.0, 2.0]))
    assert_close(
        out,
        torch.tensor([2.193176, 0.431582]),
        msg=lambda m: f"README SwiGLU example: out (swapping w1 and w3 gives 2.857722)\n{m}",
        **six_places,
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_mlp_in_eval_mode_matches_the_formula(solution, device, dtype):
    mlp = built(solution.Mlp(16, 32, 12, drop=0.5), 1, dtype, device).eval()
    x = randn(torch.Generator().manual_seed(2), 3, 5, 16).to(device=device, dtype=dtype)
    call = "Mlp(16, 32, 12, drop=0.5).eval()"
    check_value(mlp, x, expected_mlp(mlp, x), call, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_swiglu_matches_the_formula(solution, device, dtype):
    swiglu = built(solution.SwiGLU(16, 40), 3, dtype, device)
    x = randn(torch.Generator().manual_seed(4), 3, 5, 16).to(device=device, dtype=dtype)
    check_value(swiglu, x, expected_swiglu(swiglu, x), "SwiGLU(16, 40)", dtype)


@st.composite
def cases(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    return {
        "batch": batch,
        "in": draw(st.integers(1, 6)),
        "hidden": draw(st.none() | st.integers(1, 8)),
        "out": draw(st.none() | st.integers(1, 6)),
        "strided": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def drawn_input(case) -> torch.Tensor:
    """float64 x (*batch, in): contiguous, or every other element of a wider tensor."""
    gen = torch.Generator().manual_seed(case["seed"])
    if case["strided"]:
        return randn(gen, *case["batch"], 2 * case["in"])[..., ::2]
    return randn(gen, *case["batch"], case["in"])


@settings(max_examples=30)
@given(case=cases())
def test_mlp_takes_any_leading_dims_and_memory_layout(solution, case):
    mlp = built(solution.Mlp(case["in"], case["hidden"], case["out"]), case["seed"])
    x = drawn_input(case)
    call = f"Mlp({case['in']}, {case['hidden']}, {case['out']})"
    check_value(mlp, x, expected_mlp(mlp, x), call, torch.float64)


@settings(max_examples=30)
@given(case=cases())
def test_swiglu_takes_any_leading_dims_and_memory_layout(solution, case):
    hidden = case["hidden"] or 5
    swiglu = built(solution.SwiGLU(case["in"], hidden), case["seed"])
    x = drawn_input(case)
    call = f"SwiGLU({case['in']}, {hidden})"
    check_value(swiglu, x, expected_swiglu(swiglu, x), call, torch.float64)


def test_the_input_is_left_unchanged(solution):
    gen = torch.Generator().manual_seed(5)
    for module, call in [
        (built(solution.Mlp(6, 10, drop=0.3), 6), "Mlp(6, 10, drop=0.3)"),
        (built(solution.SwiGLU(6, 10), 7), "SwiGLU(6, 10)"),
    ]:
        x = randn(gen, 4, 6)
        before = x.clone()
        module(x)
        assert torch.equal(x, before), f"{call}(x) modified its input x"


# ---------------------------------------------------------------------------- gradients


GRADIENT_CASES = {
    "Mlp": (lambda s: s.Mlp(6, 10, 5), MLP_PARAMETERS, mlp_math),
    "SwiGLU": (lambda s: s.SwiGLU(6, 10), SWIGLU_PARAMETERS, swiglu_math),
}


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_x_and_every_parameter_match_the_formula(solution, device, case):
    make, names, math_of = case
    module = built(make(solution), 8, device=device)
    gen = torch.Generator().manual_seed(9)
    x = randn(gen, 2, 3, 6)
    out_size = 5 if names is MLP_PARAMETERS else 6
    upstream = randn(gen, 2, 3, out_size)
    call = f"{type(module).__name__} on x {shape_of(x)}"

    leaves = [x.clone().requires_grad_(), *float64_leaves(module, names)]
    want = torch.autograd.grad((math_of(*leaves) * upstream).sum(), leaves)

    params = dict(module.named_parameters())
    inputs = [x.to(device).requires_grad_(), *(params[n] for n in names)]
    out = module(inputs[0])
    got = torch.autograd.grad((out * upstream.to(device)).sum(), inputs, allow_unused=True)
    for name, g, w in zip(["x", *names], got, want, strict=True):
        assert g is not None, f"{call}: the output does not depend on {name}"
        assert_close(g, w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}")


# ---------------------------------------------------------------------------- dropout


def test_mlp_eval_mode_turns_dropout_off_and_train_mode_turns_it_back_on(solution):
    mlp = built(solution.Mlp(8, 16, 8, drop=0.5), 10)
    x = randn(torch.Generator().manual_seed(11), 32, 8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12)
        mlp.eval()
        first, second = mlp(x), mlp(x)
        mlp.train()
        trained = mlp(x)
    assert_close(
        first,
        expected_mlp(mlp, x),
        msg=lambda m: f"Mlp(8, 16, 8, drop=0.5).eval(): dropout must be off in eval mode\n{m}",
    )
    assert torch.equal(first, second), "Mlp(..., drop=0.5).eval() gave two different outputs"
    assert not torch.allclose(trained, first), (
        "Mlp(8, 16, 8, drop=0.5) after .train() gave the eval-mode output: dropout never acted"
    )


def test_mlp_without_dropout_gives_the_formula_in_training_mode_too(solution):
    mlp = built(solution.Mlp(8, 16, 8), 13).train()
    x = randn(torch.Generator().manual_seed(14), 32, 8)
    check_value(mlp, x, expected_mlp(mlp, x), "Mlp(8, 16, 8).train() (drop=0.0)", torch.float64)


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_mlp_in_training_drops_after_the_activation_and_again_after_fc2(solution, p):
    """With fc1 and fc2 the identity, out = drop(drop(gelu(x))): an element survives both
    dropouts with probability (1 - p)^2 and is then multiplied by 1 / (1 - p)^2."""
    n, rows = 64, 64
    mlp = solution.Mlp(n, drop=p).double().train()
    with torch.no_grad():
        for linear in (mlp.fc1, mlp.fc2):
            linear.weight.copy_(torch.eye(n))
            linear.bias.zero_()
    gen = torch.Generator().manual_seed(15)
    x = 0.5 + 1.5 * torch.rand((rows, n), generator=gen, dtype=torch.float64)  # gelu >= 0.34
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(16)
        out = mlp(x)
    call = f"Mlp({n}, drop={p}) in training mode, fc1 and fc2 set to the identity"

    keep = (1 - p) ** 2
    survived = out != 0
    assert_close(
        out[survived],
        gelu(x)[survived] / keep,
        msg=lambda m: (
            f"{call}: a surviving output should be gelu(x) / (1 - p)^2 = {1 / keep:g} gelu(x), "
            "one 1 / (1 - p) for the dropout after act and one for the dropout after fc2\n"
            f"{m}"
        ),
    )
    # the number of survivors is Binomial(N, keep); 6 standard deviations: a false failure
    # has probability below 1e-8
    count, mean = int(survived.sum()), rows * n * keep
    sd = math.sqrt(rows * n * keep * (1 - keep))
    assert abs(count - mean) < 6 * sd, (
        f"{call}: {count} of {rows * n} outputs survived; expected about {mean:.0f} "
        f"(each survives two independent dropouts with probability (1 - p)^2 = {keep:g})"
    )
