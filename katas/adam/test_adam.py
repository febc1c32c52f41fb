"""Tests for the adam kata: Adam and AdamW trajectories, param groups, skipped parameters,
the closure, the per-parameter state and its checkpoint round trip, and the errors.

The oracle is torch's own Adam arithmetic, torch.optim.adam.adam: the public functional
form that torch.optim.Adam and torch.optim.AdamW (foreach=False) call from their step(), with
the same arguments. It runs side by side with the learner's optimizer on an identical copy of
a small seeded MLP in float64, on fixed seeded data, for 50 steps; the parameters are compared
after every step. It is called directly because torch.optim.Adam.step() imports torch._dynamo
on its first call, two to three seconds of waiting for nothing. Every draw is seeded.
"""

from __future__ import annotations

import copy
import importlib
from typing import ClassVar

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, skip_dynamo_import

STEPS = 50
# float64 trajectories agree to rounding; Adam divides by sqrt(v_hat) + eps, which can
# magnify a rounding difference a little, hence not the float64 default of 1e-7 / 1e-7
TOL64 = {"rtol": 1e-9, "atol": 1e-11}


# ---------------------------------------------------------------------------- helpers


def make_model(seed: int = 0, dtype=torch.float64, device="cpu") -> nn.Sequential:
    """A 2-layer MLP 5 -> 8 -> 3 with seeded weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    return model.to(device=device, dtype=dtype)


def make_data(seed: int = 1, dtype=torch.float64, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 5, generator=gen, dtype=torch.float64)
    y = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    return x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def backward(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of model(x) against y; fills the gradients, returns the loss."""
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    return loss


OPTIMIZER_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
TORCH_ADAM = importlib.import_module("torch.optim.adam").adam


@pytest.fixture(autouse=True)
def no_dynamo_import() -> None:
    """torch.optim's Optimizer methods and functional adam import torch._dynamo on first use."""
    skip_dynamo_import(*(getattr(torch.optim.Optimizer, m) for m in OPTIMIZER_METHODS), TORCH_ADAM)


class TorchAdam:
    """The oracle: torch.optim.Adam, or torch.optim.AdamW when decoupled_weight_decay, as
    their step() runs it with foreach=False: per param group, torch.optim.adam.adam on the
    parameters that have a gradient, with the state torch keeps (a float32 step count)."""

    DEFAULTS: ClassVar[dict] = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": False,
    }

    def __init__(self, params, **defaults) -> None:
        params = list(params)
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = [
            {**self.DEFAULTS, **defaults, **g, "params": list(g["params"])} for g in groups
        ]
        self.state: dict[torch.Tensor, dict] = {}

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if p not in self.state:
                    self.state[p] = {
                        "step": torch.tensor(0.0),
                        "exp_avg": torch.zeros_like(p),
                        "exp_avg_sq": torch.zeros_like(p),
                    }
            states = [self.state[p] for p in params]
            TORCH_ADAM(
                params,
                [p.grad for p in params],
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [],
                [s["step"] for s in states],
                foreach=False,
                decoupled_weight_decay=group["decoupled_weight_decay"],
                amsgrad=False,
                beta1=group["betas"][0],
                beta2=group["betas"][1],
                lr=group["lr"],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
            )


def describe(hp: dict) -> str:
    return "Adam(params" + "".join(f", {k}={v!r}" for k, v in hp.items()) + ")"


def run_side_by_side(solution, hp: dict, steps=STEPS, dtype=torch.float64, device="cpu", tol=None):
    """Train two copies of the same model, one with the learner's Adam(**hp) and one with
    torch's, and compare every parameter after every step."""
    __tracebackhide__ = True
    tol = tol or TOL64
    mine, theirs = make_model(dtype=dtype, device=device), make_model(dtype=dtype, device=device)
    x, y = make_data(dtype=dtype, device=device)
    opt = solution.Adam(mine.parameters(), **hp)
    ref = TorchAdam(theirs.parameters(), **hp)
    for step in range(1, steps + 1):
        for model, optimizer in ((mine, opt), (theirs, ref)):
            optimizer.zero_grad()
            backward(model, x, y)
            optimizer.step()
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters(), strict=True):
            assert_close(
                p,
                q.detach(),
                msg=lambda m, name=name, step=step: (
                    f"{describe(hp)}: parameter {name} after step {step} differs from "
                    f"torch.optim.{'AdamW' if hp.get('decoupled_weight_decay') else 'Adam'}'s\n{m}"
                ),
                **tol,
            )
    return opt, ref, mine, theirs


HYPERPARAMETERS = {
    "defaults": {},
    "lr": {"lr": 0.02},
    "betas": {"lr": 0.01, "betas": (0.5, 0.9)},
    "no_momentum": {"lr": 0.01, "betas": (0.0, 0.99)},
    "large_eps": {"lr": 0.05, "eps": 1e-2},
    "l2_decay": {"lr": 0.01, "weight_decay": 0.5},
    "decoupled_decay": {"lr": 0.01, "weight_decay": 0.5, "decoupled_weight_decay": True},
    "decoupled_no_decay": {"lr": 0.01, "decoupled_weight_decay": True},
    "everything": {
        "lr": 0.03,
        "betas": (0.8, 0.95),
        "eps": 1e-4,
        "weight_decay": 0.2,
        "decoupled_weight_decay": True,
    },
}


# ---------------------------------------------------------------------------- worked example


def test_the_readme_worked_example(solution):
    g = torch.tensor([0.5, -1.0], dtype=torch.float64)

    def run(steps, **hp):
        p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
        opt = solution.Adam([p], lr=0.1, **hp)
        for _ in range(steps):
            opt.zero_grad()
            (g * p).sum().backward()  # the gradient is g at every step
            opt.step()
        return p.detach()

    cases = [
        (1, {}, [0.9, -1.9]),
        (2, {}, [0.8, -1.8]),
        (1, {"weight_decay": 0.1, "decoupled_weight_decay": True}, [0.89, -1.88]),
        (1, {"weight_decay": 0.1}, [0.9, -1.9]),
        (2, {"weight_decay": 0.1}, [0.800047, -1.800023]),
    ]
    for steps, hp, want in cases:
        got = run(steps, **hp)
        call = f"{describe({'lr': 0.1, **hp})} on p=[1, -2] with gradient [0.5, -1]"
        assert_close(
            got,
            torch.tensor(want, dtype=torch.float64),
            rtol=0,
            atol=1e-6,
            msg=lambda m, call=call, steps=steps: f"{call}, after {steps} step(s)\n{m}",
        )


# ---------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(HYPERPARAMETERS))
def test_fifty_steps_follow_torch_step_by_step(solution, name, device):
    run_side_by_side(solution, HYPERPARAMETERS[name], device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_float32_parameters_follow_torch_in_float32(solution, device):
    hp = {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}
    opt, _, mine, _ = run_side_by_side(
        solution, hp, dtype=torch.float32, device=device, tol={"rtol": 1e-4, "atol": 1e-5}
    )
    for p in mine.parameters():
        for key in ("exp_avg", "exp_avg_sq"):
            s = opt.state[p][key]
            assert s.dtype == torch.float32 and s.device == p.device, (
                f"Adam on float32 {device} parameters: state[{key!r}] is {s.dtype} on "
                f"{s.device}; expected the parameter's dtype and device"
            )


@settings(max_examples=15)
@given(
    lr=st.sampled_from([1e-3, 0.01, 0.1]),
    beta1=st.sampled_from([0.0, 0.5, 0.9]),
    beta2=st.sampled_from([0.5, 0.9, 0.999]),
    eps=st.sampled_from([1e-8, 1e-5, 0.1]),
    weight_decay=st.sampled_from([0.0, 0.05, 1.0]),
    decoupled=st.booleans(),
)
def test_any_hyperparameters_follow_torch(solution, lr, beta1, beta2, eps, weight_decay, decoupled):
    hp = {
        "lr": lr,
        "betas": (beta1, beta2),
        "eps": eps,
        "weight_decay": weight_decay,
        "decoupled_weight_decay": decoupled,
    }
    run_side_by_side(solution, hp, steps=10)


def test_the_state_holds_torchs_moments_and_step_count(solution):
    hp = {"lr": 0.01, "betas": (0.8, 0.9)}
    opt, ref, mine, theirs = run_side_by_side(solution, hp, steps=12)
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters(), strict=True):
        state = opt.state[p]
        missing = {"step", "exp_avg", "exp_avg_sq"} - set(state)
        assert not missing, f"{describe(hp)}: state of {name} lacks the keys {sorted(missing)}"
        assert float(state["step"]) == 12, (
            f"{describe(hp)}: state[{name}]['step'] is {state['step']} after 12 steps; expected 12"
        )
        for key in ("exp_avg", "exp_avg_sq"):
            assert_close(
                state[key],
                ref.state[q][key],
                msg=lambda m, key=key, name=name: (
                    f"{describe(hp)}: state[{name}][{key!r}] after 12 steps differs from "
                    f"torch's\n{m}"
                ),
                **TOL64,
            )


# ---------------------------------------------------------------------------- groups, skipping


def test_param_groups_use_their_own_hyperparameters(solution):
    mine, theirs = make_model(), make_model()
    x, y = make_data()

    def groups(model):
        return [
            {"params": model[0].parameters()},
            {"params": model[2].parameters(), "lr": 0.05, "betas": (0.5, 0.9), "weight_decay": 0.3},
        ]

    opt = solution.Adam(groups(mine), lr=0.01)
    ref = TorchAdam(groups(theirs), lr=0.01)
    for step in range(1, 31):
        if step == 16:  # a scheduler changing the first group's learning rate
            opt.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 0.002
        for model, optimizer in ((mine, opt), (theirs, ref)):
            optimizer.zero_grad()
            backward(model, x, y)
            optimizer.step()
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters(), strict=True):
            assert_close(
                p,
                q.detach(),
                msg=lambda m, name=name, step=step: (
                    "Adam([{layer 0}, {layer 2, lr=0.05, betas=(0.5, 0.9), weight_decay=0.3}], "
                    f"lr=0.01), group 0's lr set to 0.002 before step 16: {name} after step "
                    f"{step} differs from torch.optim.Adam's\n{m}"
                ),
                **TOL64,
            )


def test_parameters_without_gradient_are_skipped_and_start_late(solution):
    """The bias of the last layer gets no gradient for 10 steps (left out of the loss path):
    it must not move, and when its gradient arrives its own step count starts at 1."""
    hp = {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}
    mine, theirs = make_model(), make_model()
    x, y = make_data()
    opt = solution.Adam(mine.parameters(), **hp)
    ref = TorchAdam(theirs.parameters(), **hp)
    frozen_start = mine[2].bias.detach().clone()
    for step in range(1, 21):
        for model, optimizer in ((mine, opt), (theirs, ref)):
            optimizer.zero_grad()
            backward(model, x, y)
            if step <= 10:
                model[2].bias.grad = None
            optimizer.step()
        if step <= 10:
            assert torch.equal(mine[2].bias.detach(), frozen_start), (
                f"{describe(hp)}: a parameter whose .grad is None changed at step {step}; "
                "it must be skipped (not even weight decay applies)"
            )
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters(), strict=True):
            assert_close(
                p,
                q.detach(),
                msg=lambda m, name=name, step=step: (
                    f"{describe(hp)}, the last bias without gradient for steps 1-10: {name} "
                    f"after step {step} differs from torch's\n{m}"
                ),
                **TOL64,
            )


def test_zero_grad_clears_the_gradients(solution):
    model = make_model()
    x, y = make_data()
    opt = solution.Adam(model.parameters(), lr=0.01)
    backward(model, x, y)
    opt.step()
    opt.zero_grad()
    grads = [p.grad for p in model.parameters()]
    assert all(g is None or not g.any() for g in grads), (
        "Adam.zero_grad() after a step left non-zero gradients"
    )


# ---------------------------------------------------------------------------- closure


def test_step_with_a_closure_returns_its_loss_and_steps_like_torch(solution):
    mine, theirs = make_model(), make_model()
    x, y = make_data()
    opt = solution.Adam(mine.parameters(), lr=0.01)
    ref = TorchAdam(theirs.parameters(), lr=0.01)
    calls = []

    def closure():
        opt.zero_grad()
        per_sample = ((mine(x) - y) ** 2).mean(dim=1)  # (16,): a loss that is not a scalar
        per_sample.mean().backward()
        calls.append(per_sample)
        return per_sample

    for step in range(1, 6):
        returned = opt.step(closure)
        assert len(calls) == step, (
            f"Adam.step(closure) call {step}: the closure was called {len(calls)} times in "
            f"{step} steps; expected once per step"
        )
        assert returned is calls[-1], (
            f"Adam.step(closure) returned {type(returned).__name__}; expected the closure's "
            "return value itself"
        )
        ref.zero_grad()
        backward(theirs, x, y)
        ref.step()
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters(), strict=True):
            assert_close(
                p,
                q.detach(),
                msg=lambda m, name=name, step=step: (
                    f"Adam(params, lr=0.01).step(closure): {name} after step {step} differs "
                    f"from torch's\n{m}"
                ),
                **TOL64,
            )


def test_step_without_a_closure_returns_none(solution):
    model = make_model()
    x, y = make_data()
    opt = solution.Adam(model.parameters())
    backward(model, x, y)
    assert opt.step() is None, "Adam.step() without a closure must return None"


# ---------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
def test_a_checkpoint_resumes_exactly(solution, decoupled):
    """Save after 20 steps, load into a fresh Adam on a fresh copy of the weights, train 30
    more: the result equals 50 uninterrupted steps."""
    hp = {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.1}
    hp["decoupled_weight_decay"] = decoupled
    x, y = make_data()

    def train(model, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            backward(model, x, y)
            optimizer.step()

    straight = make_model()
    train(straight, solution.Adam(straight.parameters(), **hp), STEPS)

    first = make_model()
    opt = solution.Adam(first.parameters(), **hp)
    train(first, opt, 20)
    checkpoint = copy.deepcopy({"model": first.state_dict(), "optimizer": opt.state_dict()})
    del first, opt

    resumed = make_model(seed=7)  # other weights, overwritten by the checkpoint
    resumed.load_state_dict(checkpoint["model"])
    fresh = solution.Adam(resumed.parameters(), **hp)
    fresh.load_state_dict(checkpoint["optimizer"])
    train(resumed, fresh, STEPS - 20)
    for (name, p), q in zip(resumed.named_parameters(), straight.parameters(), strict=True):
        assert_close(
            p,
            q.detach(),
            msg=lambda m, name=name: (
                f"{describe(hp)}: 20 steps, state_dict(), load_state_dict() into a fresh Adam, "
                f"30 more steps: {name} differs from 50 uninterrupted steps (keep all state "
                f"in self.state[p])\n{m}"
            ),
            **TOL64,
        )


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "hp",
    [
        {"lr": -0.1},
        {"eps": -1e-8},
        {"weight_decay": -0.01},
        {"betas": (1.0, 0.999)},
        {"betas": (0.9, 1.0)},
        {"betas": (-0.1, 0.999)},
    ],
    ids=["lr", "eps", "weight_decay", "beta1_one", "beta2_one", "beta1_negative"],
)
def test_invalid_hyperparameters_raise_value_error(solution, hp):
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError):
        solution.Adam([p], **hp)
