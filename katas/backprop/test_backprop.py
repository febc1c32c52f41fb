"""Tests for the backprop kata: initialisation, forward, loss and gradients, ReLU at 0,
stability, the in-place step, and training on two spirals.

The oracle is torch: the same network built from the same weights in float64, its loss by
torch.nn.functional.cross_entropy and its gradients by autograd. Every draw is seeded, and
the weights the tests load keep the logits of order one.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close

# hidden layers: none (a linear softmax classifier), one, two, three
ARCHITECTURES = {
    "no-hidden": [5, 3],
    "1-hidden": [5, 8, 3],
    "2-hidden": [4, 7, 6, 3],
    "3-hidden": [6, 9, 5, 7, 4],
}


# ---------------------------------------------------------------------------- helpers


def load_weights(mlp, seed: int) -> None:
    """Write seeded draws into the network's own arrays, in place: weights N(0, 1/fan_in),
    biases N(0, 1/4), so that pre-activations and logits are of order one."""
    rng = np.random.default_rng(seed)
    for W, b in zip(mlp.weights, mlp.biases, strict=True):
        W[...] = rng.normal(0.0, 1.0 / math.sqrt(W.shape[0]), size=W.shape)
        b[...] = rng.normal(0.0, 0.5, size=b.shape)


def network(solution, sizes: list[int], seed: int):
    mlp = solution.MLP(sizes, seed=seed)
    load_weights(mlp, seed + 1000)
    return mlp


def data(sizes: list[int], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n, in) standard normal and y (n,) integer labels in [0, out)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], size=n)


def torch_network(mlp, X: np.ndarray, y: np.ndarray):
    """(logits, loss, grads_w, grads_b) in float64 from torch, with mlp's current weights."""
    weights = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in mlp.weights]
    biases = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in mlp.biases]
    a = torch.tensor(X, dtype=torch.float64)
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        a = a @ W + b
        if l < len(weights) - 1:
            a = torch.relu(a)  # its derivative at exactly 0 is 0
    loss = F.cross_entropy(a, torch.as_tensor(y, dtype=torch.long))
    grads = torch.autograd.grad(loss, weights + biases)
    return a.detach(), loss.item(), grads[: len(weights)], grads[len(weights) :]


def describe(mlp, X: np.ndarray, method: str = "loss_and_grads") -> str:
    sizes = [W.shape[0] for W in mlp.weights] + [mlp.weights[-1].shape[1]]
    return f"MLP({sizes}).{method}(X {X.dtype} {X.shape}{', y' if method != 'forward' else ''})"


def check_loss_and_grads(mlp, X, y, **tol) -> None:
    """loss_and_grads against torch: the loss a float, every gradient of the right shape."""
    __tracebackhide__ = True
    call = describe(mlp, X)
    _, want_loss, want_w, want_b = torch_network(mlp, X, y)
    loss, grads_w, grads_b = mlp.loss_and_grads(X, y)
    assert isinstance(loss, float), f"{call} returned a loss of type {type(loss).__name__}"
    assert_close(
        torch.tensor(loss, dtype=torch.float64),
        torch.tensor(want_loss, dtype=torch.float64),
        msg=lambda m: f"{call}: the loss should be the mean cross-entropy {want_loss!r}\n{m}",
        **tol,
    )
    for kind, got, want in (("grads_w", grads_w, want_w), ("grads_b", grads_b, want_b)):
        assert len(got) == len(want), f"{call}: {kind} has {len(got)} entries, expected {len(want)}"
        for l, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(
                np.asarray(g),
                w,
                msg=lambda m, kind=kind, l=l: f"{call}: {kind}[{l}] differs from autograd's\n{m}",
                **tol,
            )


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    mlp = solution.MLP([2, 2, 2])
    mlp.weights[0][...] = [[1.0, -1.0], [1.0, 1.0]]
    mlp.biases[0][...] = [0.0, 0.0]
    mlp.weights[1][...] = [[1.0, 0.0], [-1.0, 2.0]]
    mlp.biases[1][...] = [0.0, 1.0]
    X, y = np.array([[1.0, 2.0], [2.0, -1.0]]), np.array([1, 0])
    to_6_places = {"rtol": 0, "atol": 5e-7}
    call = "README example: MLP([2, 2, 2])"

    logits = mlp.forward(X)
    assert_close(logits, np.array([[2.0, 3.0], [1.0, 1.0]]), msg=lambda m: f"{call}: logits\n{m}")
    loss, grads_w, grads_b = mlp.loss_and_grads(X, y)
    expected = {
        "loss": (np.array(loss), np.array(0.503204)),
        "grads_w[1]": (grads_w[1], np.array([[0.153412, -0.153412], [0.134471, -0.134471]])),
        "grads_b[1]": (grads_b[1], np.array([-0.115529, 0.115529])),
        "grads_w[0]": (grads_w[0], np.array([[-0.365529, -0.403412], [0.518941, -0.806824]])),
        "grads_b[0]": (grads_b[0], np.array([-0.115529, -0.403412])),
    }
    for name, (got, want) in expected.items():
        assert_close(
            np.asarray(got, dtype=np.float64),
            want,
            msg=lambda m, name=name: f"{call}: {name}\n{m}",
            **to_6_places,
        )


# ---------------------------------------------------------------------------- initialisation


@pytest.mark.parametrize("sizes", ARCHITECTURES.values(), ids=ARCHITECTURES.keys())
def test_weights_are_in_by_out_and_biases_start_at_zero(solution, sizes):
    mlp = solution.MLP(sizes, seed=1)
    call = f"MLP({sizes}, seed=1)"
    want_w = list(itertools.pairwise(sizes))
    got_w = [np.shape(W) for W in mlp.weights]
    assert isinstance(mlp.weights, list) and got_w == want_w, (
        f"{call}.weights has shapes {got_w}; expected a list of {want_w}, (in, out) per layer"
    )
    got_b = [np.shape(b) for b in mlp.biases]
    assert isinstance(mlp.biases, list) and got_b == [(b,) for _, b in want_w], (
        f"{call}.biases has shapes {got_b}; expected a list of {[(b,) for _, b in want_w]}"
    )
    for l, (W, b) in enumerate(zip(mlp.weights, mlp.biases, strict=True)):
        assert W.dtype == np.float64 and b.dtype == np.float64, (
            f"{call}: weights[{l}] is {W.dtype} and biases[{l}] {b.dtype}; expected float64"
        )
        assert not b.any(), f"{call}.biases[{l}] should start at zero, got {b}"


def test_the_same_seed_gives_the_same_weights_and_another_seed_others(solution):
    sizes = [4, 6, 3]
    first, again, other = (solution.MLP(sizes, seed=s) for s in (7, 7, 8))
    default, zero = solution.MLP(sizes), solution.MLP(sizes, seed=0)
    for l in range(2):
        assert np.array_equal(first.weights[l], again.weights[l]), (
            f"MLP({sizes}, seed=7) twice gave different weights[{l}]: draw every weight from "
            "np.random.default_rng(seed)"
        )
        assert not np.array_equal(first.weights[l], other.weights[l]), (
            f"MLP({sizes}, seed=7) and seed=8 gave the same weights[{l}]"
        )
        assert np.array_equal(default.weights[l], zero.weights[l]), (
            f"MLP({sizes}) and MLP({sizes}, seed=0) differ in weights[{l}]: seed defaults to 0"
        )


def test_weights_are_drawn_with_he_scale_sqrt_2_over_fan_in(solution):
    """The sample mean and standard deviation of 120,000 and of 3,000 draws, within six
    standard errors of 0 and sqrt(2 / fan_in): a false failure is rarer than 1 in 10^8."""
    mlp = solution.MLP([400, 300, 10], seed=0)
    for W, fan_in in ((mlp.weights[0], 400), (mlp.weights[1], 300)):
        sd, count = math.sqrt(2 / fan_in), W.size
        mean_bound, sd_bound = 6 * sd / math.sqrt(count), 6 * sd / math.sqrt(2 * count)
        assert abs(W.mean()) < mean_bound and abs(W.std() - sd) < sd_bound, (
            f"MLP([400, 300, 10]): the weights with fan_in {fan_in} have mean {W.mean():.4f} "
            f"and standard deviation {W.std():.4f}; expected N(0, 2 / fan_in), a standard "
            f"deviation of {sd:.4f} (He initialisation)"
        )


@pytest.mark.parametrize("sizes", [[], [3]], ids=["empty", "one-size"])
def test_fewer_than_two_layer_sizes_raise_a_value_error(solution, sizes):
    with pytest.raises(ValueError):
        solution.MLP(sizes)


# ---------------------------------------------------------------------------- forward


@pytest.mark.parametrize("n", [1, 7, 64])
@pytest.mark.parametrize("sizes", ARCHITECTURES.values(), ids=ARCHITECTURES.keys())
def test_forward_gives_torchs_logits_with_the_same_weights(solution, sizes, n):
    mlp = network(solution, sizes, seed=n)
    X, _ = data(sizes, n, seed=n + 1)
    want, *_ = torch_network(mlp, X, np.zeros(n, dtype=int))
    assert_close(mlp.forward(X), want, msg=lambda m: f"{describe(mlp, X, 'forward')}: logits\n{m}")


def test_forward_on_float32_input_returns_float64_logits(solution):
    sizes = [3, 5, 2]
    mlp = network(solution, sizes, seed=2)
    X, _ = data(sizes, 6, seed=3)
    X32 = X.astype(np.float32)
    want, *_ = torch_network(mlp, X32.astype(np.float64), np.zeros(6, dtype=int))
    assert_close(
        mlp.forward(X32),
        want,
        msg=lambda m: f"{describe(mlp, X32, 'forward')}: expected float64 logits\n{m}",
    )


# ---------------------------------------------------------------------------- loss and grads


@pytest.mark.parametrize("n", [1, 2, 16, 100])
@pytest.mark.parametrize("sizes", ARCHITECTURES.values(), ids=ARCHITECTURES.keys())
def test_the_loss_and_every_gradient_match_torch_autograd(solution, sizes, n):
    mlp = network(solution, sizes, seed=10 + n)
    X, y = data(sizes, n, seed=20 + n)
    check_loss_and_grads(mlp, X, y)


@settings(max_examples=30)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    n=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_drawn_architectures_and_batches_match_torch_autograd(solution, sizes, n, seed):
    mlp = network(solution, sizes, seed)
    X, y = data(sizes, n, seed + 1)
    check_loss_and_grads(mlp, X, y)


def test_relus_derivative_at_exactly_zero_is_zero(solution):
    """Rows of X that are all zero, with zero first-layer biases, give hidden
    pre-activations of exactly 0: those units pass no gradient back, so grads_b[0] gets
    nothing from those rows (a derivative of 1 at 0 would add their share)."""
    sizes = [3, 6, 4]
    mlp = network(solution, sizes, seed=30)
    mlp.biases[0][...] = 0.0
    X, y = data(sizes, 8, seed=31)
    X[::2] = 0.0
    check_loss_and_grads(mlp, X, y)


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["positive", "negative"])
def test_logits_of_ten_thousand_give_a_finite_loss_and_finite_gradients(solution, sign):
    """The output layer is scaled so that the logits reach about +-1e4 (exp overflows
    past 709): the loss of a wrong label is then in the thousands, but finite and exact."""
    sizes = [4, 6, 3]
    mlp = network(solution, sizes, seed=40)
    mlp.weights[-1][...] *= sign * 5e3
    mlp.biases[-1][...] = sign * np.array([1e4, 0.0, -1e4])
    X, y = data(sizes, 12, seed=41)
    loss, grads_w, grads_b = mlp.loss_and_grads(X, y)
    call = describe(mlp, X) + " with logits near +-1e4"
    finite = np.isfinite(loss) and all(np.isfinite(g).all() for g in grads_w + grads_b)
    assert finite, (
        f"{call} gave loss {loss} and some gradient with inf or nan: subtract each row's "
        "max logit before exp (log-sum-exp)"
    )
    check_loss_and_grads(mlp, X, y, rtol=1e-9, atol=1e-9)


def test_loss_and_grads_leave_the_network_and_the_data_unchanged(solution):
    sizes = [4, 5, 3]
    mlp = network(solution, sizes, seed=50)
    X, y = data(sizes, 10, seed=51)
    before = [a.copy() for a in (*mlp.weights, *mlp.biases, X, y)]
    mlp.loss_and_grads(X, y)
    mlp.forward(X)
    after = [*mlp.weights, *mlp.biases, X, y]
    assert all(np.array_equal(a, b) for a, b in zip(after, before, strict=True)), (
        "MLP.loss_and_grads(X, y) or MLP.forward(X) changed the weights, the biases, X or y"
    )


# ---------------------------------------------------------------------------- step


def test_step_updates_the_arrays_in_place_by_exactly_lr_times_the_gradient(solution):
    sizes = [3, 4, 2]
    mlp = network(solution, sizes, seed=60)
    weights_list, biases_list = mlp.weights, mlp.biases
    arrays = [*mlp.weights, *mlp.biases]
    before = [a.copy() for a in arrays]
    rng = np.random.default_rng(61)
    grads = [rng.standard_normal(a.shape) for a in arrays]
    grads_copy = [g.copy() for g in grads]
    lr = 0.1
    mlp.step(grads[:2], grads[2:], lr)

    assert mlp.weights is weights_list and mlp.biases is biases_list, (
        "MLP.step replaced the lists weights or biases: update their arrays in place"
    )
    assert all(a is b for a, b in zip([*mlp.weights, *mlp.biases], arrays, strict=True)), (
        "MLP.step put new arrays in weights or biases: update the existing ones in place "
        "(W -= lr * g), so that anyone holding weights[l] sees the new values"
    )
    for i, (a, b, g) in enumerate(zip(arrays, before, grads, strict=True)):
        name = f"weights[{i}]" if i < 2 else f"biases[{i - 2}]"
        assert np.array_equal(a, b - lr * g), (
            f"MLP.step(grads_w, grads_b, lr=0.1): {name} should be exactly "
            f"{name} - 0.1 * grad, got a difference of {np.abs(a - (b - lr * g)).max():.3g}"
        )
    assert all(np.array_equal(g, c) for g, c in zip(grads, grads_copy, strict=True)), (
        "MLP.step changed the gradients it was given"
    )


# ---------------------------------------------------------------------------- training


def two_spirals(per_class: int, turns: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of `turns` turns, out to radius 2, one the other rotated by
    half a turn, with a little noise: X (2 * per_class, 2), y 0 or 1."""
    rng = np.random.default_rng(seed)
    angle = np.sqrt(rng.uniform(0.0, 1.0, per_class)) * turns * 2 * np.pi
    radius = 2 * angle / (turns * 2 * np.pi)
    arm = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    X = np.concatenate([arm, -arm]) + rng.normal(0.0, 0.04, size=(2 * per_class, 2))
    return X, np.repeat([0, 1], per_class)


def test_gradient_descent_separates_two_spirals(solution):
    """MLP([2, 32, 32, 2]) from its own He initialisation, 500 full-batch steps of lr 0.5
    on 200 points of two spirals of 1.5 turns: from each of the seeds 0..99 the reference
    reaches at least 99% training accuracy (98.5% after only 300 steps); we ask for 95%."""
    X, y = two_spirals(100, 1.5, seed=70)
    mlp = solution.MLP([2, 32, 32, 2], seed=0)
    first = None
    for _ in range(500):
        loss, grads_w, grads_b = mlp.loss_and_grads(X, y)
        first = loss if first is None else first
        mlp.step(grads_w, grads_b, 0.5)
    accuracy = float((np.argmax(mlp.forward(X), axis=1) == y).mean())
    assert accuracy >= 0.95, (
        f"MLP([2, 32, 32, 2], seed=0) after 500 steps of gradient descent (lr 0.5) on two "
        f"spirals: training accuracy {accuracy:.1%}, loss {first:.3f} at the start and "
        f"{mlp.loss_and_grads(X, y)[0]:.3f} at the end; expected at least 95%"
    )
