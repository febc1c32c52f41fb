"""Tests for the lstm kata: nn.LSTM's parameters and gate order, values, stacking, initial
state, gradients.

The oracle is torch's own nn.LSTM(batch_first=True) in float64, with the same weights loaded
both ways (its state_dict into the learner's module, and the learner's into it). Weights are
seeded draws of scale 1/sqrt(fan_in), so that every gate's pre-activation is of order one
and every gate matters.
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


def oracle(I: int, H: int, L: int, device="cpu") -> nn.LSTM:
    return nn.LSTM(I, H, L, batch_first=True).to(device, torch.float64)


def pair(solution, I, H, L, seed, device="cpu"):
    """(learner, oracle): nn.LSTM with seeded weights, loaded into the learner's module."""
    want = load_weights(oracle(I, H, L, device), seed)
    got = solution.LSTM(I, H, L).to(device, torch.float64)
    got.load_state_dict(want.state_dict())
    return got, want


def describe(I, H, L, x, state=None) -> str:
    def shape(t: torch.Tensor) -> str:
        return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}"

    given = "" if state is None else f", (h0 {shape(state[0])}, c0 {shape(state[1])})"
    return f"LSTM({I}, {H}, num_layers={L})(x {shape(x)}{given})"


def check(got_module, want_module, x, state, call, **tol):
    """Compare out, h_n and c_n of the two modules on the same inputs."""
    __tracebackhide__ = True
    want_out, (want_h, want_c) = want_module(x, state)
    result = got_module(x, state)
    assert isinstance(result, tuple) and len(result) == 2 and len(result[1]) == 2, (
        f"{call} returned {type(result).__name__}; expected (out, (h_n, c_n))"
    )
    out, (h_n, c_n) = result
    assert_close(out, want_out, msg=lambda m: f"{call}: out is wrong\n{m}", **tol)
    assert_close(h_n, want_h, msg=lambda m: f"{call}: h_n is wrong\n{m}", **tol)
    assert_close(c_n, want_c, msg=lambda m: f"{call}: c_n is wrong\n{m}", **tol)


def inputs(seed, B, T, I, H, L, with_state, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    x = randn(gen, B, T, I).to(device)
    state = (randn(gen, L, B, H).to(device), randn(gen, L, B, H).to(device))
    return x, state if with_state else None


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    lstm = solution.LSTM(1, 1)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor([[1.0], [-1.0], [2.0], [0.0]]))  # i, f, g, o
        lstm.weight_hh_l0.zero_()
        lstm.bias_ih_l0.zero_()
        lstm.bias_hh_l0.zero_()
    x = torch.tensor([[[1.0], [0.0]]])
    state = (torch.zeros(1, 1, 1), torch.ones(1, 1, 1))
    out, (h_n, c_n) = lstm(x, state)
    call = "the README's LSTM(1, 1) on x = [1, 0], h0 = 0, c0 = 1"
    tol = {"rtol": 0, "atol": 5e-5}
    want = torch.tensor([[[0.3752], [0.2259]]])
    assert_close(out, want, msg=lambda m: f"{call}: out\n{m}", **tol)
    assert_close(h_n, torch.tensor([[[0.2259]]]), msg=lambda m: f"{call}: h_n\n{m}", **tol)
    assert_close(c_n, torch.tensor([[[0.4869]]]), msg=lambda m: f"{call}: c_n\n{m}", **tol)


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_the_parameters_have_nn_lstm_names_and_shapes(solution, num_layers):
    got = {n: tuple(p.shape) for n, p in solution.LSTM(3, 5, num_layers).named_parameters()}
    want = {n: tuple(p.shape) for n, p in nn.LSTM(3, 5, num_layers).named_parameters()}
    assert got == want, (
        f"LSTM(3, 5, num_layers={num_layers}) has parameters {got}; expected exactly "
        f"nn.LSTM's {want}"
    )


def test_the_initial_parameters_are_uniform_within_one_over_sqrt_hidden_size(solution):
    torch.manual_seed(0)
    lstm = solution.LSTM(6, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    for name, p in lstm.named_parameters():
        worst = p.detach().abs().max().item()
        assert worst <= bound + 1e-7, (
            f"LSTM(6, 16, num_layers=2).{name} holds {worst:.4g}; nn.LSTM draws every "
            f"parameter uniformly in [-1/sqrt(16), 1/sqrt(16)] = [-0.25, 0.25]"
        )
        assert worst > bound / 2, (
            f"LSTM(6, 16, num_layers=2).{name} is all within ±{worst:.3g}; expected draws "
            f"spread over [-0.25, 0.25] (not zeros)"
        )


# ---------------------------------------------------------------------------- values

CASES = {  # the square stacks come first: they catch a stack that feeds x to every layer
    "1-layer": (4, 6, 1, False),
    "1-layer-state": (4, 6, 1, True),
    "2-layer-state-I=H": (4, 4, 2, True),
    "3-layer-I=H": (5, 5, 3, False),
    "2-layer-state": (3, 5, 2, True),
    "3-layer-state": (5, 4, 3, True),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_matches_nn_lstm_with_its_weights_loaded(solution, case, device):
    I, H, L, with_state = case
    got, want = pair(solution, I, H, L, seed=1, device=device)
    x, state = inputs(2, 3, 7, I, H, L, with_state, device)
    check(got, want, x, state, describe(I, H, L, x, state) + f" on {device}")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_nn_lstm_matches_with_the_learners_weights_loaded(solution, case):
    I, H, L, with_state = case
    got = load_weights(solution.LSTM(I, H, L).double(), seed=3)
    want = oracle(I, H, L)
    want.load_state_dict(got.state_dict())
    x, state = inputs(4, 2, 6, I, H, L, with_state)
    check(got, want, x, state, describe(I, H, L, x, state) + " (nn.LSTM given its state_dict)")


def test_a_single_time_step_works(solution):
    got, want = pair(solution, 3, 4, 2, seed=5)
    x, state = inputs(6, 2, 1, 3, 4, 2, with_state=True)
    check(got, want, x, state, describe(3, 4, 2, x, state))


@settings(max_examples=30)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    I=st.integers(1, 5),
    H=st.integers(1, 5),
    L=st.integers(1, 3),
    with_state=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_drawn_sizes_match_nn_lstm(solution, B, T, I, H, L, with_state, seed):
    got, want = pair(solution, I, H, L, seed)
    x, state = inputs(seed + 1, B, T, I, H, L, with_state)
    check(got, want, x, state, describe(I, H, L, x, state))


def test_the_inputs_are_left_unchanged(solution):
    got, _ = pair(solution, 3, 4, 2, seed=7)
    x, (h0, c0) = inputs(8, 2, 5, 3, 4, 2, with_state=True)
    before = x.clone(), h0.clone(), c0.clone()
    got(x, (h0, c0))
    for name, now, then in zip(("x", "h0", "c0"), (x, h0, c0), before, strict=True):
        assert torch.equal(now, then), f"LSTM.forward modified its input {name}"


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32], ids=["float16", "bfloat16", "float32"]
)
def test_low_precision_keeps_the_dtype_and_stays_close(solution, dtype):
    I, H, L = 4, 6, 2
    got = load_weights(solution.LSTM(I, H, L).to(dtype), seed=9)
    want = oracle(I, H, L)
    want.load_state_dict({k: v.double() for k, v in got.state_dict().items()})
    x, (h0, c0) = inputs(10, 2, 4, I, H, L, with_state=True)
    x, h0, c0 = x.to(dtype), h0.to(dtype), c0.to(dtype)
    call = describe(I, H, L, x, (h0, c0))
    out, (h_n, c_n) = got(x, (h0, c0))
    assert out.dtype == h_n.dtype == c_n.dtype == dtype, (
        f"{call} returned out {out.dtype}, h_n {h_n.dtype}, c_n {c_n.dtype}; expected {dtype}"
    )
    want_out, (want_h, want_c) = want(x.double(), (h0.double(), c0.double()))
    tol = tolerance(dtype)
    assert_close(out, want_out.to(dtype), msg=lambda m: f"{call}: out\n{m}", **tol)
    assert_close(h_n, want_h.to(dtype), msg=lambda m: f"{call}: h_n\n{m}", **tol)
    assert_close(c_n, want_c.to(dtype), msg=lambda m: f"{call}: c_n\n{m}", **tol)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("L", [1, 2])
def test_gradients_of_x_the_state_and_every_parameter_match_nn_lstm(solution, L, device):
    I, H = 3, 5
    got, want = pair(solution, I, H, L, seed=11, device=device)
    x, (h0, c0) = inputs(12, 2, 5, I, H, L, with_state=True, device=device)
    gen = torch.Generator().manual_seed(13)
    up_out = randn(gen, 2, 5, H).to(device)
    up_h, up_c = randn(gen, L, 2, H).to(device), randn(gen, L, 2, H).to(device)
    call = describe(I, H, L, x, (h0, c0))

    def grads(module):
        leaves = [t.clone().requires_grad_() for t in (x, h0, c0)]
        params = dict(module.named_parameters())
        names = parameter_names(L)
        out, (h_n, c_n) = module(leaves[0], (leaves[1], leaves[2]))
        loss = (out * up_out).sum() + (h_n * up_h).sum() + (c_n * up_c).sum()
        found = torch.autograd.grad(loss, leaves + [params[n] for n in names], allow_unused=True)
        return dict(zip(["x", "h0", "c0", *names], found, strict=True))

    want_grads = grads(want)
    for name, g in grads(got).items():
        assert g is not None, f"{call}: the outputs do not depend on {name} (no gradient)"
        assert_close(g, want_grads[name], msg=lambda m, n=name: f"{call}: gradient of {n}\n{m}")
