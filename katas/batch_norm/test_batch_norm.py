"""Tests for the batch_norm kata: the BatchNorm module against nn.BatchNorm1d/2d, and the
numpy forward and backward passes against torch.

Oracles: nn.BatchNorm1d / nn.BatchNorm2d in float64, loaded with the same state as the
learner's module and stepped in parallel with it (outputs, gradients, all three buffers after
every step); torch.nn.functional.batch_norm in training mode and autograd, in float64, for
the numpy functions. Every batch has its own per-channel shift and scale, so that batch
statistics, running statistics and per-pixel statistics all give different answers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

STATE_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
BUFFERS = ["running_mean", "running_var", "num_batches_tracked"]
SHAPES = {"N-C": (8, 3), "N-C-L": (4, 3, 5), "N-C-H-W": (2, 3, 4, 3)}


# ---------------------------------------------------------------------------- helpers


def oracle(ndim: int, C: int, eps: float = 1e-5, momentum: float | None = 0.1) -> nn.Module:
    """torch's own batch norm for an input of ndim dims, in float64 on the CPU."""
    cls = nn.BatchNorm2d if ndim == 4 else nn.BatchNorm1d
    return cls(C, eps=eps, momentum=momentum).to(torch.float64)


def random_state(C: int, seed: int) -> dict[str, torch.Tensor]:
    """A float64 state far from the initial one: every statistic and parameter matters."""
    gen = torch.Generator().manual_seed(seed)
    return {
        "weight": 0.5 + torch.rand(C, generator=gen, dtype=torch.float64),
        "bias": torch.randn(C, generator=gen, dtype=torch.float64),
        "running_mean": torch.randn(C, generator=gen, dtype=torch.float64),
        "running_var": 0.5 + 2 * torch.rand(C, generator=gen, dtype=torch.float64),
        "num_batches_tracked": torch.tensor(7),
    }


def batch(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """float64 x of the shape, channel c drawn as shift_c + scale_c * N(0, 1), with
    shift in [-2, 2] and scale in [0.5, 3]: every channel has its own statistics."""
    C = shape[1]
    view = (1, C) + (1,) * (len(shape) - 2)
    shift = (4 * torch.rand(C, generator=gen, dtype=torch.float64) - 2).view(view)
    scale = (0.5 + 2.5 * torch.rand(C, generator=gen, dtype=torch.float64)).view(view)
    return shift + scale * torch.randn(shape, generator=gen, dtype=torch.float64)


def built(solution, C: int, state: dict, dtype=torch.float64, device="cpu", **kwargs) -> nn.Module:
    """The learner's BatchNorm(C, **kwargs) moved to dtype and device, with the state loaded
    (rounded to dtype)."""
    module = solution.BatchNorm(C, **kwargs).to(device=device, dtype=dtype)
    module.load_state_dict({k: v.clone() for k, v in state.items()})
    return module


def rounded(state: dict, dtype: torch.dtype) -> dict:
    """The float64 state as a module in dtype holds it, back in float64."""
    return {k: v.to(dtype).to(v.dtype) if v.is_floating_point() else v for k, v in state.items()}


def name(module: nn.Module, x: torch.Tensor, options: str = "") -> str:
    """BatchNorm(C, options) in train/eval mode on dtype x (shape), for failure messages."""
    mode = "train" if module.training else "eval"
    dtype = str(x.dtype).removeprefix("torch.")
    args = ", ".join(a for a in (str(module.weight.shape[0]), options) if a)
    return f"BatchNorm({args}) in {mode} mode on {dtype} x {tuple(x.shape)} on {x.device}"


def step_and_compare(
    ours: nn.Module,
    theirs: nn.Module,
    x: torch.Tensor,
    gen: torch.Generator,
    what: str,
    options: str,
    tol: dict,
) -> None:
    """One forward and backward of both modules on x (x's dtype and device for ours, float64
    on the CPU for theirs), then out, the gradients of x, weight and bias, and the three
    buffers compared."""
    __tracebackhide__ = True
    upstream = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    call = f"{what}: {name(ours, x, options)}"
    for p in (*ours.parameters(), *theirs.parameters()):
        p.grad = None

    x_ours = x.clone().requires_grad_()
    out = ours(x_ours)
    assert out is not x_ours, f"{call} returned its input"
    (out * upstream.to(device=x.device, dtype=x.dtype)).sum().backward()
    x_theirs = x.detach().cpu().to(torch.float64).requires_grad_()
    want = theirs(x_theirs)
    (want * upstream).sum().backward()

    assert_close(
        out, want.to(device=x.device, dtype=x.dtype), msg=lambda m: f"{call}: out\n{m}", **tol
    )
    got_grads = {"x": x_ours.grad, "weight": ours.weight.grad, "bias": ours.bias.grad}
    want_grads = {"x": x_theirs.grad, "weight": theirs.weight.grad, "bias": theirs.bias.grad}
    # in float16 and bfloat16 the gradients are differences of O(1) terms that nearly
    # cancel: their rounding error depends on how the forward is written, so there only
    # their dtype and shape are checked (their values are, in float32 and float64)
    half = x.dtype in (torch.float16, torch.bfloat16)
    for key, g in got_grads.items():
        assert g is not None, f"{call}: no gradient reached {key}"
        want_grad = want_grads[key].to(device=g.device, dtype=g.dtype)
        assert_close(
            g,
            g.detach() if half else want_grad,
            msg=lambda m, key=key: f"{call}: gradient of {key}\n{m}",
            **tol,
        )
        assert g.dtype == x.dtype and g.shape == want_grad.shape, (
            f"{call}: gradient of {key} is {g.dtype} {tuple(g.shape)}; "
            f"expected {x.dtype} {tuple(want_grad.shape)}"
        )
    for key in BUFFERS:
        got, expected = getattr(ours, key), getattr(theirs, key)
        assert isinstance(got, torch.Tensor) and not got.requires_grad, (
            f"{call}: {key} must be a buffer updated outside autograd (requires_grad False)"
        )
        assert_close(
            got,
            expected.to(device=got.device, dtype=got.dtype),
            msg=lambda m, key=key: f"{call}: {key} afterwards (expected nn.BatchNorm's)\n{m}",
            **(tol if key != "num_batches_tracked" else {}),
        )


def train_then_eval(
    solution, shape, momentum=0.1, eps=1e-5, dtype=torch.float64, device="cpu", seed=0, steps=3
) -> None:
    """steps training steps on different batches, then two eval steps, each compared with
    nn.BatchNorm stepped in parallel from the same random state."""
    __tracebackhide__ = True
    C = shape[1]
    state = random_state(C, seed)
    ours = built(solution, C, state, dtype, device, eps=eps, momentum=momentum)
    theirs = oracle(len(shape), C, eps, momentum)
    theirs.load_state_dict(rounded(state, dtype))
    gen = torch.Generator().manual_seed(seed + 1)
    tol = tolerance(dtype)
    options = f"eps={eps}, momentum={momentum}"
    for i in range(steps):
        x = batch(gen, shape).to(device=device, dtype=dtype)
        step_and_compare(
            ours.train(), theirs.train(), x, gen, f"training step {i + 1}", options, tol
        )
    for i in range(2):
        x = batch(gen, shape).to(device=device, dtype=dtype)
        what = f"eval step {i + 1} after {steps} training steps"
        step_and_compare(ours.eval(), theirs.eval(), x, gen, what, options, tol)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    x = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 4.0], [6.0, 4.0]])
    to_4_places = {"rtol": 0, "atol": 5e-5}
    module = solution.BatchNorm(2)
    out = module(x)
    call = "README example: BatchNorm(2) in train mode"
    assert_close(
        out.detach(),
        torch.tensor([[-1.0690, -1.0], [-0.5345, -1.0], [0.0, 1.0], [1.6036, 1.0]]),
        msg=lambda m: f"{call}: out\n{m}",
        **to_4_places,
    )
    assert_close(
        module.running_mean,
        torch.tensor([0.3, 0.2]),
        msg=lambda m: f"{call}: running_mean\n{m}",
        **to_4_places,
    )
    assert_close(
        module.running_var,
        torch.tensor([1.3667, 1.4333]),
        msg=lambda m: f"{call}: running_var (unbiased batch variance 4.6667 and 5.3333)\n{m}",
        **to_4_places,
    )
    assert int(module.num_batches_tracked) == 1, f"{call}: num_batches_tracked should be 1"
    module.eval()
    assert_close(
        module(x).detach(),
        torch.tensor([[0.5988, -0.1671], [1.4542, -0.1671], [2.3096, 3.1740], [4.8758, 3.1740]]),
        msg=lambda m: f"README example: then in eval mode, out\n{m}",
        **to_4_places,
    )
    out, _ = solution.batch_norm_forward(x.double().numpy(), np.ones(2), np.zeros(2))
    assert_close(
        out,
        np.array([[-1.0690, -1.0], [-0.5345, -1.0], [0.0, 1.0], [1.6036, 1.0]]),
        msg=lambda m: f"README example: batch_norm_forward, out\n{m}",
        **to_4_places,
    )


# ---------------------------------------------------------------------------- the state


def test_a_new_module_has_the_parameters_and_buffers_of_nn_batchnorm(solution):
    module = solution.BatchNorm(5)
    want = nn.BatchNorm1d(5)
    params = dict(module.named_parameters())
    assert sorted(params) == ["bias", "weight"], (
        f"BatchNorm(5) has parameters {sorted(params)}; expected exactly weight and bias"
    )
    buffers = dict(module.named_buffers())
    assert sorted(buffers) == sorted(BUFFERS), (
        f"BatchNorm(5) has buffers {sorted(buffers)}; expected exactly {sorted(BUFFERS)}"
    )
    state = module.state_dict()
    assert sorted(state) == sorted(STATE_KEYS), (
        f"BatchNorm(5).state_dict() has keys {list(state)}; expected {STATE_KEYS}"
    )
    for key, expected in want.state_dict().items():
        assert_close(
            state[key],
            expected,
            msg=lambda m, key=key: f"BatchNorm(5).{key} at construction (as nn.BatchNorm1d's)\n{m}",
        )


@pytest.mark.parametrize("ndim", [2, 4], ids=["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("device", DEVICES)
def test_the_state_dict_loads_into_nn_batchnorm_and_back(solution, device, ndim):
    """nn.BatchNorm on the CPU; ours moved to the device, where every parameter and buffer
    must follow it."""
    theirs = oracle(ndim, 4)
    state = random_state(4, 1)
    theirs.load_state_dict(state)
    ours = solution.BatchNorm(4).to(device=device, dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())
    for key, value in ours.state_dict().items():
        assert_close(
            value,
            state[key].to(device),
            msg=lambda m, key=key: f"{key} after load_state_dict on {device}\n{m}",
        )

    fresh = oracle(ndim, 4)
    fresh.load_state_dict(ours.state_dict())
    for key, value in fresh.state_dict().items():
        assert_close(
            value,
            state[key],
            msg=lambda m, key=key: f"nn.BatchNorm's {key} after loading our state_dict\n{m}",
        )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_training_steps_then_eval_match_nn_batchnorm(solution, shape, device):
    train_then_eval(solution, shape, device=device, seed=2)


@pytest.mark.parametrize("momentum", [0.3, 0.75, 1.0, 0.0], ids=lambda m: f"momentum={m}")
@pytest.mark.parametrize("shape", [SHAPES["N-C"], SHAPES["N-C-H-W"]], ids=["N-C", "N-C-H-W"])
@pytest.mark.parametrize("device", DEVICES)
def test_other_momentum_values_follow_pytorchs_convention(solution, device, shape, momentum):
    train_then_eval(solution, shape, momentum=momentum, device=device, seed=3)


@pytest.mark.parametrize("shape", [SHAPES["N-C"], SHAPES["N-C-L"]], ids=["N-C", "N-C-L"])
@pytest.mark.parametrize("device", DEVICES)
def test_momentum_none_keeps_a_cumulative_average(solution, device, shape):
    train_then_eval(solution, shape, momentum=None, device=device, seed=4, steps=4)


@pytest.mark.parametrize("device", DEVICES)
def test_a_large_eps_is_added_to_the_variance(solution, device):
    train_then_eval(solution, SHAPES["N-C-L"], eps=0.5, device=device, seed=5)


@pytest.mark.parametrize("device", DEVICES)
def test_eval_mode_uses_only_the_running_statistics(solution, device):
    """A batch of one sample, one value per channel, is fine in eval mode: nothing of the
    batch is used, and nothing is updated."""
    state = random_state(3, 6)
    ours = built(solution, 3, state, device=device).eval()
    theirs = oracle(4, 3)
    theirs.load_state_dict(state)
    theirs.eval()
    gen = torch.Generator().manual_seed(7)
    x = batch(gen, (1, 3, 2, 2))
    x_ours = x.to(device)
    call = name(ours, x_ours)
    with torch.no_grad():
        assert_close(ours(x_ours), theirs(x).to(device), msg=lambda m: f"{call}: out\n{m}")
    for key in BUFFERS:
        assert_close(
            getattr(ours, key),
            state[key].to(device),
            msg=lambda m, key=key: f"{call}: {key} must not change in eval mode\n{m}",
        )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
@pytest.mark.parametrize("shape", [SHAPES["N-C"], SHAPES["N-C-H-W"]], ids=["N-C", "N-C-H-W"])
@pytest.mark.parametrize("device", DEVICES)
def test_a_module_cast_to_a_lower_precision_keeps_it(solution, device, shape, dtype):
    """The module and x in dtype; the oracle runs in float64 on the same rounded inputs."""
    train_then_eval(solution, shape, dtype=dtype, device=device, seed=8, steps=2)


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=30)
@given(
    N=st.integers(2, 5),
    C=st.integers(1, 4),
    spatial=st.lists(st.integers(1, 3), max_size=2),
    momentum=st.sampled_from([0.1, 0.5, 1.0, None]),
    eps=st.sampled_from([1e-5, 1e-3, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_drawn_shapes_and_settings_match_nn_batchnorm(
    solution, device, N, C, spatial, momentum, eps, seed
):
    shape = (N, C, *spatial)
    train_then_eval(solution, shape, momentum=momentum, eps=eps, device=device, seed=seed, steps=2)


def test_the_input_is_left_unchanged(solution):
    x = batch(torch.Generator().manual_seed(9), SHAPES["N-C-H-W"])
    before = x.clone()
    module = built(solution, 3, random_state(3, 10))
    module(x)
    module.eval()(x)
    assert torch.equal(x, before), "BatchNorm's forward modified its input"


# ---------------------------------------------------------------------------- errors


def raised_by(call) -> BaseException | None:
    try:
        call()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


@pytest.mark.parametrize(
    ("shape", "training", "sizes", "what"),
    [
        ((4,), True, (), "a 1-D input"),
        ((2, 3, 2, 2, 2), True, (), "a 5-D input"),
        ((4, 5), True, ("3", "5"), "5 channels for BatchNorm(3)"),
        ((4, 2, 6), False, ("3", "2"), "2 channels for BatchNorm(3), in eval mode"),
        ((1, 3), True, (), "one value per channel in training mode"),
        ((1, 3, 1, 1), True, (), "one value per channel in training mode"),
    ],
    ids=["1-D", "5-D", "channels", "channels-eval", "one-value-N-C", "one-value-N-C-1-1"],
)
def test_bad_inputs_raise_a_value_error_and_change_nothing(solution, shape, training, sizes, what):
    state = random_state(3, 11)
    module = built(solution, 3, state).train(training)
    x = torch.ones(shape, dtype=torch.float64)
    call = f"{name(module, x)} ({what})"
    exc = raised_by(lambda: module(x))
    assert exc is not None, f"{call} returned a result; expected ValueError"
    assert isinstance(exc, ValueError), (
        f"{call} raised {type(exc).__name__}: {exc}; expected ValueError"
    )
    assert all(size in str(exc) for size in sizes), (
        f"{call} raised ValueError({str(exc)!r}); the message should name {' and '.join(sizes)}"
    )
    for key in BUFFERS:
        assert_close(
            getattr(module, key),
            state[key],
            msg=lambda m, key=key: f"{call}: {key} must not change when the input is refused\n{m}",
        )


# ---------------------------------------------------------------------------- numpy


def numpy_case(seed: int, N: int, D: int, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=D) + rng.uniform(0.5, 3, size=D) * rng.standard_normal((N, D))
    gamma = rng.uniform(0.5, 1.5, size=D) * rng.choice([-1, 1], size=D)
    beta = rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    return (a.astype(dtype) for a in (x, gamma, beta, dout))


def torch_forward_backward(x, gamma, beta, dout, eps):
    """out, dx, dgamma, dbeta in float64 from F.batch_norm (training) and autograd."""
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, gamma, beta)]
    out = F.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True, eps=eps)
    grads = torch.autograd.grad(out, leaves, torch.tensor(dout, dtype=torch.float64))
    return [t.detach().numpy() for t in (out, *grads)]


def check_numpy(solution, x, gamma, beta, dout, eps=1e-5, **tol) -> None:
    __tracebackhide__ = True
    call = f"batch_norm_forward(x {x.dtype} {x.shape}, gamma, beta, eps={eps})"
    want = torch_forward_backward(x, gamma, beta, dout, eps)
    args = [a.copy() for a in (x, gamma, beta, dout)]
    out, cache = solution.batch_norm_forward(x, gamma, beta, eps)
    assert_close(out, want[0].astype(x.dtype), msg=lambda m: f"{call}: out\n{m}", **tol)
    grads = solution.batch_norm_backward(dout, cache)
    assert isinstance(grads, tuple) and len(grads) == 3, (
        f"batch_norm_backward returned {type(grads).__name__}; expected (dx, dgamma, dbeta)"
    )
    for key, got, expected in zip(("dx", "dgamma", "dbeta"), grads, want[1:], strict=True):
        assert_close(
            got,
            expected.astype(x.dtype),
            msg=lambda m, key=key: f"batch_norm_backward after {call}: {key}\n{m}",
            **tol,
        )
    for label, now, then in zip(
        ("x", "gamma", "beta", "dout"), (x, gamma, beta, dout), args, strict=True
    ):
        assert np.array_equal(now, then), f"{call} or batch_norm_backward modified {label}"


@pytest.mark.parametrize(("N", "D"), [(8, 3), (2, 5), (64, 1), (5, 16)])
def test_numpy_forward_and_backward_match_torch_in_float64(solution, N, D):
    check_numpy(solution, *numpy_case(12, N, D))


@pytest.mark.parametrize("eps", [1e-3, 0.5])
def test_numpy_forward_and_backward_use_eps(solution, eps):
    check_numpy(solution, *numpy_case(13, 6, 4), eps=eps)


def test_numpy_forward_and_backward_keep_float32(solution):
    check_numpy(solution, *numpy_case(14, 10, 4, np.float32), rtol=1e-4, atol=1e-4)


@settings(max_examples=30)
@given(N=st.integers(2, 12), D=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_numpy_drawn_sizes_match_torch(solution, N, D, seed):
    check_numpy(solution, *numpy_case(seed, N, D))
