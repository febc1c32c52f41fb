"""Tests for the rnn kata: nn.RNN's parameters, values, stacking, initial state, gradients.

The oracle is torch's own nn.RNN(batch_first=True) in float64, with the same weights loaded
both ways (its state_dict into the learner's module, and the learner's into it). Weights are
seeded draws of scale 1/sqrt(fan_in), so that every hidden state is of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def parameter_names(num_layers: int) -> list[str]:
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [f"{kind}_l{layer}" for layer in range(num_layers) for kind in kinds]


def load_weights(module: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter, by name, with seeded draws in the module's dtype and device:
    weights N(0, 1/fan_in), biases N(0, 1/4), so pre-activations are of order one."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name in parameter_names(module.num_layers):
            p = params[name]
            draw = randn(gen, *p.shape)
            p.copy_(draw / math.sqrt(p.shape[-1]) if p.ndim == 2 else draw / 2)
    return module


def oracle(I: int, H: int, L: int, nl: str, device="cpu") -> nn.RNN:
    return nn.RNN(I, H, L, nonlinearity=nl, batch_first=True).to(device, torch.float64)


def pair(solution, I, H, L, nl, seed, device="cpu"):
    """(learner, oracle): nn.RNN with seeded weights, loaded into the learner's module."""
    want = load_weights(oracle(I, H, L, nl, device), seed)
    got = solution.RNN(I, H, L, nl).to(device, torch.float64)
    got.load_state_dict(want.state_dict())
    return got, want


def describe(I, H, L, nl, x, h0=None) -> str:
    def shape(t: torch.Tensor) -> str:
        return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}"

    state = "" if h0 is None else f", h0 {shape(h0)}"
    return f"RNN({I}, {H}, num_layers={L}, nonlinearity={nl!r})(x {shape(x)}{state})"


def check(got_module, want_module, x, h0, call, **tol):
    """Compare out and h_n of the two modules on the same inputs."""
    __tracebackhide__ = True
    want_out, want_h = want_module(x, h0)
    out, h_n = got_module(x, h0)
    assert_close(out, want_out, msg=lambda m: f"{call}: out is wrong\n{m}", **tol)
    assert_close(h_n, want_h, msg=lambda m: f"{call}: h_n is wrong\n{m}", **tol)


def inputs(seed, B, T, I, H, L, with_h0, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    x = randn(gen, B, T, I).to(device)
    h0 = randn(gen, L, B, H).to(device) if with_h0 else None
    return x, h0


# ---------------------------------------------------------------------------- the README


@pytest.mark.parametrize(
    ("nl", "expected"),
    [("tanh", [-0.2449, 0.7595, -0.9068]), ("relu", [0.0, 0.75, 0.0])],
    ids=["tanh", "relu"],
)
def test_the_readme_worked_example_gives_the_numbers_it_shows(solution, nl, expected):
    rnn = solution.RNN(1, 1, nonlinearity=nl)
    with torch.no_grad():
        for name, value in [
            ("weight_ih_l0", 0.5),
            ("weight_hh_l0", -1.0),
            ("bias_ih_l0", 0.25),
            ("bias_hh_l0", -0.5),
        ]:
            getattr(rnn, name).fill_(value)
    x = torch.tensor([[[1.0], [2.0], [-1.0]]])
    h0 = torch.tensor([[[0.5]]])
    out, h_n = rnn(x, h0)
    call = f"the README's RNN(1, 1, nonlinearity={nl!r}) on x = [1, 2, -1], h0 = 0.5"
    want = torch.tensor(expected).reshape(1, 3, 1)
    assert_close(out, want, rtol=0, atol=5e-5, msg=lambda m: f"{call}: out\n{m}")
    assert_close(h_n, want[:, -1:].reshape(1, 1, 1), rtol=0, atol=5e-5, msg=f"{call}: h_n")


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_the_parameters_have_nn_rnn_names_and_shapes(solution, num_layers):
    got = {n: tuple(p.shape) for n, p in solution.RNN(3, 5, num_layers).named_parameters()}
    want = {n: tuple(p.shape) for n, p in nn.RNN(3, 5, num_layers).named_parameters()}
    assert got == want, (
        f"RNN(3, 5, num_layers={num_layers}) has parameters {got}; expected exactly nn.RNN's {want}"
    )


def test_the_initial_parameters_are_uniform_within_one_over_sqrt_hidden_size(solution):
    torch.manual_seed(0)
    rnn = solution.RNN(6, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    for name, p in rnn.named_parameters():
        worst = p.detach().abs().max().item()
        assert worst <= bound + 1e-7, (
            f"RNN(6, 16, num_layers=2).{name} holds {worst:.4g}; nn.RNN draws every "
            f"parameter uniformly in [-1/sqrt(16), 1/sqrt(16)] = [-0.25, 0.25]"
        )
        assert worst > bound / 2, (
            f"RNN(6, 16, num_layers=2).{name} is all within ±{worst:.3g}; expected draws "
            f"spread over [-0.25, 0.25] (not zeros)"
        )


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "Tanh", "gelu"])
def test_an_unknown_nonlinearity_raises_a_value_error_naming_it(solution, nonlinearity):
    call = f"RNN(3, 4, nonlinearity={nonlinearity!r})"
    try:
        solution.RNN(3, 4, nonlinearity=nonlinearity)
    except NotImplementedError:
        raise
    except ValueError as exc:
        assert nonlinearity in str(exc), (
            f"{call} raised ValueError({str(exc)!r}); the message should name {nonlinearity!r}"
        )
        return
    except Exception as exc:
        pytest.fail(f"{call} raised {type(exc).__name__}: {exc}; expected ValueError")
    pytest.fail(f"{call} built a module; expected ValueError (only 'tanh' and 'relu')")


# ---------------------------------------------------------------------------- values

CASES = {  # the square stacks come first: they catch a stack that feeds x to every layer
    "1-layer-tanh": (4, 6, 1, "tanh", False),
    "1-layer-tanh-h0": (4, 6, 1, "tanh", True),
    "1-layer-relu-h0": (4, 6, 1, "relu", True),
    "2-layer-tanh-I=H": (4, 4, 2, "tanh", True),
    "3-layer-relu-h0-I=H": (5, 5, 3, "relu", True),
    "2-layer-tanh-h0": (3, 5, 2, "tanh", True),
    "3-layer-tanh": (5, 4, 3, "tanh", False),
    "2-layer-relu": (3, 5, 2, "relu", False),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_matches_nn_rnn_with_its_weights_loaded(solution, case, device):
    I, H, L, nl, with_h0 = case
    got, want = pair(solution, I, H, L, nl, seed=1, device=device)
    x, h0 = inputs(2, 3, 7, I, H, L, with_h0, device)
    check(got, want, x, h0, describe(I, H, L, nl, x, h0) + f" on {device}")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_nn_rnn_matches_with_the_learners_weights_loaded(solution, case):
    I, H, L, nl, with_h0 = case
    got = load_weights(solution.RNN(I, H, L, nl).double(), seed=3)
    want = oracle(I, H, L, nl)
    want.load_state_dict(got.state_dict())
    x, h0 = inputs(4, 2, 6, I, H, L, with_h0)
    check(got, want, x, h0, describe(I, H, L, nl, x, h0) + " (nn.RNN given its state_dict)")


@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_a_single_time_step_works(solution, nl):
    got, want = pair(solution, 3, 4, 2, nl, seed=5)
    x, h0 = inputs(6, 2, 1, 3, 4, 2, with_h0=True)
    check(got, want, x, h0, describe(3, 4, 2, nl, x, h0))


@settings(max_examples=30)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    I=st.integers(1, 5),
    H=st.integers(1, 5),
    L=st.integers(1, 3),
    nl=st.sampled_from(["tanh", "relu"]),
    with_h0=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_drawn_sizes_match_nn_rnn(solution, B, T, I, H, L, nl, with_h0, seed):
    got, want = pair(solution, I, H, L, nl, seed)
    x, h0 = inputs(seed + 1, B, T, I, H, L, with_h0)
    check(got, want, x, h0, describe(I, H, L, nl, x, h0))


def test_the_inputs_are_left_unchanged(solution):
    got, _ = pair(solution, 3, 4, 2, "tanh", seed=7)
    x, h0 = inputs(8, 2, 5, 3, 4, 2, with_h0=True)
    before = x.clone(), h0.clone()
    got(x, h0)
    assert torch.equal(x, before[0]), "RNN.forward modified its input x"
    assert torch.equal(h0, before[1]), "RNN.forward modified its input h0"


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32], ids=["float16", "bfloat16", "float32"]
)
@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_low_precision_keeps_the_dtype_and_stays_close(solution, dtype, nl):
    I, H, L = 4, 6, 2
    got = load_weights(solution.RNN(I, H, L, nl).to(dtype), seed=9)
    want = oracle(I, H, L, nl)
    want.load_state_dict({k: v.double() for k, v in got.state_dict().items()})
    x, h0 = (t.to(dtype) for t in inputs(10, 2, 4, I, H, L, with_h0=True))
    call = describe(I, H, L, nl, x, h0)
    out, h_n = got(x, h0)
    assert out.dtype == dtype and h_n.dtype == dtype, (
        f"{call} returned out {out.dtype} and h_n {h_n.dtype}; expected {dtype} for both"
    )
    want_out, want_h = want(x.double(), h0.double())
    tol = tolerance(dtype)
    assert_close(out, want_out.to(dtype), msg=lambda m: f"{call}: out\n{m}", **tol)
    assert_close(h_n, want_h.to(dtype), msg=lambda m: f"{call}: h_n\n{m}", **tol)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("L", "nl"), [(1, "tanh"), (2, "tanh"), (2, "relu")])
def test_gradients_of_x_h0_and_every_parameter_match_nn_rnn(solution, L, nl, device):
    I, H = 3, 5
    got, want = pair(solution, I, H, L, nl, seed=11, device=device)
    x, h0 = inputs(12, 2, 5, I, H, L, with_h0=True, device=device)
    gen = torch.Generator().manual_seed(13)
    up_out, up_h = randn(gen, 2, 5, H).to(device), randn(gen, L, 2, H).to(device)
    call = describe(I, H, L, nl, x, h0)

    def grads(module):
        leaves = [x.clone().requires_grad_(), h0.clone().requires_grad_()]
        params = dict(module.named_parameters())
        names = parameter_names(L)
        out, h_n = module(*leaves)
        loss = (out * up_out).sum() + (h_n * up_h).sum()
        found = torch.autograd.grad(loss, leaves + [params[n] for n in names], allow_unused=True)
        return dict(zip(["x", "h0", *names], found, strict=True))

    want_grads = grads(want)
    for name, g in grads(got).items():
        assert g is not None, f"{call}: the outputs do not depend on {name} (no gradient)"
        assert_close(g, want_grads[name], msg=lambda m, n=name: f"{call}: gradient of {n}\n{m}")
