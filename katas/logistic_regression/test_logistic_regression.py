"""Tests for the logistic_regression kata.

Oracles, all in float64: torch.sigmoid for the sigmoid, torch autograd through
binary_cross_entropy_with_logits for the loss and its gradients, central finite differences
of the learner's own loss, gradient descent written out here for the exact steps of fit, and
torch.optim.LBFGS for the optimum that fit must reach. Every draw is seeded.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close, skip_dynamo_import

# --- helpers: oracles, data, checks ----------------------------------------------------------


def torch_sigmoid(z: np.ndarray) -> np.ndarray:
    return torch.sigmoid(torch.as_tensor(z, dtype=torch.float64)).numpy()


def torch_loss_and_grad(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[float, np.ndarray, float]:
    """The kata's loss through torch's stable BCE-with-logits, and its autograd gradients."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    z = torch.as_tensor(X, dtype=torch.float64) @ wt + bt
    target = torch.as_tensor(y, dtype=torch.float64)
    loss = F.binary_cross_entropy_with_logits(z, target) + l2 / 2 * (wt * wt).sum()
    loss.backward()
    return loss.item(), wt.grad.numpy(), bt.grad.item()


def lbfgs_optimum(X: np.ndarray, y: np.ndarray, l2: float) -> float:
    """The minimum of the kata's loss, found by torch.optim.LBFGS in float64."""
    skip_dynamo_import(torch.optim.Optimizer.add_param_group)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [w, b],
        max_iter=500,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        w.grad = b.grad = None
        loss = F.binary_cross_entropy_with_logits(Xt @ w + b, yt) + l2 / 2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    grad = torch.cat([w.grad, b.grad.reshape(1)])
    assert grad.abs().max() < 1e-8, "the test's own LBFGS did not converge"
    return closure().item()


def overlapping_classes(seed: int, n: int = 200, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from a logistic model: the classes overlap, so the optimum is finite."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    logits = X @ rng.uniform(-2, 2, size=d) + 0.3
    y = (rng.uniform(size=n) < torch_sigmoid(logits)).astype(np.float64)
    return X, y


def separable_classes(seed: int, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Two classes split by a line, every point at least 0.5 / |w| away from it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3 * n, 2))
    score = X @ np.array([2.0, -1.0]) + 0.5
    keep = np.abs(score) > 0.5
    return X[keep][:n], (score[keep][:n] > 0).astype(np.int64)


def random_problem(
    seed: int, n: int, d: int, scale: float = 1.0
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(w, b, X, y) with logits of order `scale` and labels that disagree with some of them."""
    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(n, d)) / math.sqrt(d)
    w = rng.normal(size=d)
    b = float(rng.normal())
    y = rng.integers(0, 2, size=n).astype(np.float64)
    return w, b, X, y


def gradient_descent(
    X: np.ndarray, y: np.ndarray, lr: float, n_iters: int, l2: float
) -> tuple[np.ndarray, float]:
    """fit's contract written out: from zeros, n_iters simultaneous full-batch steps."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iters):
        r = torch_sigmoid(X @ w + b) - y
        w, b = w - lr * (X.T @ r / len(y) + l2 * w), b - lr * r.mean()
    return w, b


def assert_float(result: object, expected: float, call: str, **tolerances: float) -> None:
    __tracebackhide__ = True
    assert isinstance(result, float), (
        f"{call} returned {type(result).__name__}; expected a Python float"
    )
    assert_close(
        np.float64(result),
        np.float64(expected),
        msg=lambda m: f"{call} should be {expected!r}, got {result!r}\n{m}",
        **tolerances,
    )


def assert_loss_and_grad(result: object, expected: tuple, call: str, **tolerances) -> None:
    __tracebackhide__ = True
    assert isinstance(result, tuple) and len(result) == 3, (
        f"{call} should return (loss, grad_w, grad_b), got {result!r}"
    )
    loss, grad_w, grad_b = result
    assert_float(loss, expected[0], f"the loss of {call}", **tolerances)
    assert isinstance(grad_w, np.ndarray), (
        f"grad_w of {call} is a {type(grad_w).__name__}, expected a float64 np.ndarray"
    )
    assert_close(grad_w, expected[1], msg=lambda m: f"grad_w of {call}: {m}", **tolerances)
    assert_float(grad_b, expected[2], f"grad_b of {call}", **tolerances)


@contextlib.contextmanager
def no_runtime_warnings(call: str) -> Iterator[None]:
    """Fail if the body warns of overflow, division by zero or an invalid value.

    numpy's default error state is set explicitly, so that a solution's module-level
    np.seterr(all="ignore") cannot hide an overflow; underflow to 0 is no error."""
    __tracebackhide__ = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            yield
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not messages, (
        f"{call} warned {messages}: an intermediate overflowed (exp of a large positive "
        "number) or became inf/nan; compute it in a form that never exponentiates a large "
        "positive number"
    )


# --- the README's worked example -------------------------------------------------------------

EXAMPLE_X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, 1.0], [0.0, -2.0]])
EXAMPLE_Y = np.array([1, 0, 1, 0])


def test_the_readme_worked_example_holds(solution):
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    expected = np.array([0.0, 0.119203, 0.5, 0.880797, 1.0])
    assert_close(
        solution.sigmoid(z),
        expected,
        rtol=0,
        atol=1e-6,
        msg=lambda m: f"sigmoid([-1000, -2, 0, 2, 1000]) should be {expected}: {m}",
    )

    w, b = np.array([0.5, -0.25]), 0.5
    result = solution.loss_and_grad(w, b, EXAMPLE_X, EXAMPLE_Y, l2=0.1)
    expected_result = (1.146501, np.array([0.522135, -0.932832]), 0.160824)
    call = "loss_and_grad([0.5, -0.25], 0.5, X, y, l2=0.1)"
    assert_loss_and_grad(result, expected_result, call, rtol=0, atol=1e-6)

    model = solution.LogisticRegression(lr=0.1, n_iters=1).fit(EXAMPLE_X, EXAMPLE_Y)
    call = "LogisticRegression(lr=0.1, n_iters=1).fit(X, y)"
    assert_close(
        model.w_,
        np.array([-0.025, 0.075]),
        rtol=0,
        atol=1e-12,
        msg=lambda m: f"{call}.w_ should be [-0.025, 0.075]: {m}",
    )
    assert_float(model.b_, 0.0, f"{call}.b_", rtol=0, atol=1e-12)
    predicted = model.predict(EXAMPLE_X)
    assert predicted.tolist() == [1, 0, 1, 0], (
        f"{call}.predict(X) should be [1, 0, 1, 0], got {predicted}"
    )


# --- sigmoid ---------------------------------------------------------------------------------


def test_sigmoid_is_exactly_0_and_1_at_minus_and_plus_1000_without_warnings(solution):
    z = np.array([-1000.0, 1000.0, -1e300, 1e300, -710.0, 710.0])
    call = "sigmoid([-1000, 1000, -1e300, 1e300, -710, 710])"
    with no_runtime_warnings(call):
        result = solution.sigmoid(z)
    assert isinstance(result, np.ndarray) and result.shape == (6,), (
        f"{call} returned {result!r}, expected a float64 array of shape (6,)"
    )
    assert result[:4].tolist() == [0.0, 1.0, 0.0, 1.0], (
        f"{call}[:4] is {result[:4].tolist()}, expected exactly [0.0, 1.0, 0.0, 1.0]"
    )
    # sigmoid(-710) = exp(-710) / (1 + exp(-710)) = 4.48e-309, a subnormal: 0 is close enough
    expected = np.array([math.exp(-710.0), 1.0])
    assert_close(result[4:], expected, rtol=0, atol=1e-300, msg=lambda m: f"{call}[4:]: {m}")


def test_sigmoid_matches_a_float64_formula_from_minus_40_to_40(solution):
    z = np.concatenate([np.linspace(-40, 40, 161), [-30.0, 30.0, -1e-9, 1e-9]])  # 0.5 steps
    with no_runtime_warnings("sigmoid(z) for z in [-40, 40]"):
        result = solution.sigmoid(z)
    # atol 1e-15: 1 - sigmoid(30) = 9.36e-14 is resolved, and so is any error above 1 ulp
    # of 1, while 0.5 * (1 + tanh(z / 2)), exact up to that ulp, passes
    assert_close(
        result,
        torch_sigmoid(z),
        rtol=1e-12,
        atol=1e-15,
        msg=lambda m: f"sigmoid(z) for z in [-40, 40] (±30 included): {m}",
    )


@pytest.mark.parametrize(
    "z",
    [
        pytest.param(np.array(0.5), id="0-d"),
        pytest.param(np.linspace(-5, 5, 12).reshape(3, 4), id="2-d"),
        pytest.param(np.linspace(-900, 900, 24).reshape(2, 3, 4), id="3-d_huge"),
        pytest.param(np.arange(-6, 6).reshape(4, 3), id="integers"),
        pytest.param(np.linspace(-5, 5, 7, dtype=np.float32), id="float32"),
    ],
)
def test_sigmoid_keeps_the_shape_and_returns_float64(solution, z):
    with no_runtime_warnings(f"sigmoid(z) with z of shape {z.shape} and dtype {z.dtype}"):
        result = solution.sigmoid(z)
    assert isinstance(result, np.ndarray | np.floating), (
        f"sigmoid(z) returned a {type(result).__name__}, expected a float64 np.ndarray"
    )
    assert_close(
        np.asarray(result),
        torch_sigmoid(z),
        rtol=1e-12,
        atol=1e-15,
        msg=lambda m: f"sigmoid(z) with z of shape {z.shape} and dtype {z.dtype}: {m}",
    )


@settings(max_examples=40)
@given(z=st.lists(st.floats(-800, 800, allow_nan=False), min_size=1, max_size=20).map(np.array))
def test_sigmoid_is_in_0_1_symmetric_and_matches_torch(solution, z):
    with no_runtime_warnings(f"sigmoid({z.tolist()})"):
        result = solution.sigmoid(z)
        mirrored = solution.sigmoid(-z)
    call = f"sigmoid({z.tolist()})"
    assert_close(result, torch_sigmoid(z), rtol=1e-12, atol=1e-15, msg=lambda m: f"{call}: {m}")
    assert np.all((result >= 0) & (result <= 1)), f"{call} = {result} leaves [0, 1]"
    assert_close(
        result + mirrored,
        np.ones_like(z),
        rtol=0,
        atol=1e-15,
        msg=lambda m: f"sigmoid(z) + sigmoid(-z) should be 1 for z = {z.tolist()}: {m}",
    )


# --- loss_and_grad ---------------------------------------------------------------------------

L2S = [pytest.param(0.0, id="l2=0"), pytest.param(0.1, id="l2=0.1"), pytest.param(2.0, id="l2=2")]
SHAPES = [pytest.param((1, 1), id="N=1_D=1"), pytest.param((7, 3), id="N=7_D=3"),
          pytest.param((64, 5), id="N=64_D=5")]  # fmt: skip


@pytest.mark.parametrize("l2", L2S)
@pytest.mark.parametrize("shape", SHAPES)
def test_loss_and_gradients_match_torch_autograd(solution, shape, l2):
    w, b, X, y = random_problem(seed=1, n=shape[0], d=shape[1], scale=2.0)
    result = solution.loss_and_grad(w, b, X, y, l2=l2)
    call = f"loss_and_grad(w, b={b:.3f}, X of shape {shape}, y, l2={l2})"
    assert_loss_and_grad(result, torch_loss_and_grad(w, b, X, y, l2), call)


@pytest.mark.parametrize("l2", L2S)
def test_gradients_match_central_finite_differences_of_the_loss(solution, l2):
    w, b, X, y = random_problem(seed=2, n=20, d=4, scale=2.0)
    h = 1e-5
    _, grad_w, grad_b = solution.loss_and_grad(w, b, X, y, l2=l2)

    def loss(w_: np.ndarray, b_: float) -> float:
        return solution.loss_and_grad(w_, b_, X, y, l2=l2)[0]

    numeric_w = np.array(
        [(loss(w + h * e, b) - loss(w - h * e, b)) / (2 * h) for e in np.eye(len(w))]
    )
    numeric_b = (loss(w, b + h) - loss(w, b - h)) / (2 * h)
    call = f"loss_and_grad(w, b, X, y, l2={l2})"
    assert_close(
        np.asarray(grad_w, dtype=np.float64),
        numeric_w,
        rtol=1e-6,
        atol=1e-8,
        msg=lambda m: f"grad_w of {call} vs finite differences of its own loss: {m}",
    )
    assert_close(
        np.float64(grad_b),
        np.float64(numeric_b),
        rtol=1e-6,
        atol=1e-8,
        msg=lambda m: f"grad_b of {call} vs finite differences of its own loss: {m}",
    )


HUGE_LOGITS = [
    # z = X @ [400] + 0: 400, -400, 800, -800
    pytest.param([1, 0, 1, 0], id="confident_and_right"),  # loss ~ 0 (log(1 - 1) = -inf)
    pytest.param([0, 1, 0, 1], id="confident_and_wrong"),  # loss = 600 (log(0) = -inf)
    pytest.param([1, 1, 0, 0], id="half_right_half_wrong"),  # loss = 300
]


@pytest.mark.parametrize("labels", HUGE_LOGITS)
def test_the_loss_stays_finite_and_exact_for_huge_logits(solution, labels):
    X, w, y = np.array([[1.0], [-1.0], [2.0], [-2.0]]), np.array([400.0]), np.array(labels)
    call = f"loss_and_grad(w=[400], b=0, X=[[1], [-1], [2], [-2]], y={labels})"
    with no_runtime_warnings(call):
        result = solution.loss_and_grad(w, 0.0, X, y)
    expected = torch_loss_and_grad(w, 0.0, X, y)
    # absolute 1e-9 on a loss of 0, 300 or 600: log(sigmoid) gives inf or nan, a clipped
    # probability caps each term at -log(eps) (34.5 for eps = 1e-15)
    assert_loss_and_grad(result, expected, call, rtol=1e-12, atol=1e-9)


def test_the_l2_penalty_adds_half_l2_norm_squared_to_the_loss_and_l2_w_to_grad_w_only(solution):
    w, b, X, y = random_problem(seed=3, n=10, d=3)
    b = 2.0  # a large bias: a penalty on it would show
    l2 = 0.5
    plain = solution.loss_and_grad(w, b, X, y, l2=0.0)
    penalised = solution.loss_and_grad(w, b, X, y, l2=l2)
    call = f"loss_and_grad(w, b=2.0, X, y, l2={l2}) - loss_and_grad(w, b=2.0, X, y, l2=0)"
    assert_float(
        penalised[0] - plain[0], l2 / 2 * float(w @ w), f"the loss of {call} (l2/2 ||w||²)"
    )
    assert_close(
        np.asarray(penalised[1]) - np.asarray(plain[1]),
        l2 * w,
        msg=lambda m: f"grad_w of {call} should be l2 * w (not 2 * l2 * w): {m}",
    )
    assert_float(penalised[2] - plain[2], 0.0, f"grad_b of {call} (b is not penalised)")


@settings(max_examples=30)
@given(
    n=st.integers(1, 30),
    d=st.integers(1, 6),
    l2=st.floats(0.0, 2.0),
    scale=st.floats(0.1, 20.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_loss_and_gradients_match_torch_for_any_shape_and_scale(solution, n, d, l2, scale, seed):
    w, b, X, y = random_problem(seed, n, d, scale)
    result = solution.loss_and_grad(w, b, X, y, l2=l2)
    call = f"loss_and_grad(w, b, X of shape {(n, d)} and scale {scale:.3g}, y, l2={l2:.3g})"
    assert_loss_and_grad(result, torch_loss_and_grad(w, b, X, y, l2), call)


def test_integer_features_and_labels_are_accepted(solution):
    X, y = np.array([[1, 2], [2, -1], [-1, 1], [0, -2]]), np.array([1, 0, 1, 0])
    w = np.array([0.5, -0.25])
    result = solution.loss_and_grad(w, 1.0, X, y)
    call = "loss_and_grad(w, 1.0, X of int64, y of int64)"
    assert_loss_and_grad(result, torch_loss_and_grad(w, 1.0, X, y), call)


# --- LogisticRegression: fit ----------------------------------------------------------------


def test_fit_returns_self_and_sets_w_and_b(solution):
    X, y = overlapping_classes(seed=4, n=30, d=3)
    model = solution.LogisticRegression(n_iters=10)
    fitted = model.fit(X, y)
    assert fitted is model, f"LogisticRegression().fit(X, y) returned {fitted!r}, not self"
    assert isinstance(model.w_, np.ndarray) and model.w_.shape == (3,), (
        f"fit(X of shape (30, 3), y) set w_ = {model.w_!r}, expected a (3,) float64 array"
    )
    assert model.w_.dtype == np.float64, f"w_ has dtype {model.w_.dtype}, expected float64"
    assert isinstance(model.b_, float), (
        f"fit(X, y) set b_ to a {type(model.b_).__name__}, expected a Python float"
    )


@pytest.mark.parametrize("n_iters", [0, 1, 2, 7])
@pytest.mark.parametrize(("lr", "l2"), [(0.1, 0.0), (0.5, 0.3)], ids=["lr=0.1", "lr=0.5_l2=0.3"])
def test_fit_takes_exactly_n_iters_gradient_steps_from_zeros(solution, n_iters, lr, l2):
    X, y = overlapping_classes(seed=5, n=40, d=3)
    model = solution.LogisticRegression(lr=lr, n_iters=n_iters, l2=l2).fit(X, y)
    w, b = gradient_descent(X, y, lr, n_iters, l2)
    call = f"LogisticRegression(lr={lr}, n_iters={n_iters}, l2={l2}).fit(X, y)"
    hint = "start from w = 0, b = 0 and take exactly n_iters full-batch steps"
    assert_close(
        np.asarray(model.w_),
        w,
        rtol=1e-10,
        atol=1e-12,
        msg=lambda m: f"{call}.w_ should be {w} ({hint}): {m}",
    )
    assert_float(model.b_, b, f"{call}.b_ ({hint})", rtol=1e-10, atol=1e-12)


def test_one_step_from_zeros_ignores_l2_and_scales_with_lr(solution):
    # at w = 0 the penalty's gradient l2 * w is 0: one step is -lr * X^T (1/2 - y) / N
    model = solution.LogisticRegression(lr=1.0, n_iters=1, l2=5.0).fit(EXAMPLE_X, EXAMPLE_Y)
    call = "LogisticRegression(lr=1.0, n_iters=1, l2=5.0).fit(X, y)"
    assert_close(
        np.asarray(model.w_),
        np.array([-0.25, 0.75]),
        rtol=0,
        atol=1e-12,
        msg=lambda m: f"{call}.w_ should be [-0.25, 0.75]: {m}",
    )
    assert_float(model.b_, 0.0, f"{call}.b_", rtol=0, atol=1e-12)


def test_fit_separates_linearly_separable_data(solution):
    X, y = separable_classes(seed=6)
    model = solution.LogisticRegression().fit(X, y)
    predicted = model.predict(X)
    accuracy = float(np.mean(predicted == y))
    assert accuracy == 1.0, (
        f"LogisticRegression().fit(X, y).predict(X) on separable data has accuracy "
        f"{accuracy}, expected 1.0"
    )


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["l2=0", "l2=0.1"])
def test_fit_reaches_the_lbfgs_optimum_on_overlapping_classes(solution, l2):
    X, y = overlapping_classes(seed=7)
    model = solution.LogisticRegression(lr=0.1, n_iters=1000, l2=l2).fit(X, y)
    fitted = torch_loss_and_grad(np.asarray(model.w_), model.b_, X, y, l2)[0]
    optimum = lbfgs_optimum(X, y, l2)
    assert abs(fitted - optimum) < 1e-3, (
        f"LogisticRegression(lr=0.1, n_iters=1000, l2={l2}).fit(X, y) reached a loss of "
        f"{fitted:.6f}; the optimum (LBFGS) is {optimum:.6f}, expected within 1e-3"
    )


def test_a_stronger_l2_gives_smaller_weights(solution):
    X, y = overlapping_classes(seed=8, n=100, d=3)
    norms = {
        l2: float(np.linalg.norm(solution.LogisticRegression(l2=l2).fit(X, y).w_))
        for l2 in (0.0, 0.1, 1.0)
    }
    assert norms[0.0] > norms[0.1] > norms[1.0], (
        f"||w_|| after LogisticRegression(l2=...).fit(X, y) is {norms}: it should shrink as "
        "l2 grows"
    )


# --- LogisticRegression: predict_proba and predict --------------------------------------------


def test_predict_proba_is_the_sigmoid_of_the_fitted_logits(solution):
    X, y = overlapping_classes(seed=9, n=50, d=3)
    model = solution.LogisticRegression(n_iters=50).fit(X, y)
    proba = model.predict_proba(X)
    expected = torch_sigmoid(X @ np.asarray(model.w_) + model.b_)
    assert_close(
        proba,
        expected,
        msg=lambda m: f"predict_proba(X) should be sigmoid(X @ w_ + b_), shape (50,): {m}",
    )


def test_predict_proba_is_stable_for_huge_logits(solution):
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    model = solution.LogisticRegression(n_iters=1).fit(X, np.array([1, 0, 1]))
    model.w_, model.b_ = np.array([1000.0, 0.0]), 0.0  # logits 1000, -1000 and 0
    with no_runtime_warnings("predict_proba(X) with logits [1000, -1000, 0]"):
        proba = model.predict_proba(X)
    assert_close(
        proba,
        np.array([1.0, 0.0, 0.5]),
        rtol=0,
        atol=0,
        msg=lambda m: f"predict_proba(X) with logits [1000, -1000, 0] should be [1, 0, 0.5]: {m}",
    )


def test_predict_gives_1_where_the_probability_equals_the_threshold(solution):
    # the two points cancel: the gradient at zero is 0, so w_ = 0, b_ = 0 and every
    # probability is exactly 0.5
    X, y = np.array([[1.0], [1.0]]), np.array([1, 0])
    model = solution.LogisticRegression(n_iters=5).fit(X, y)
    predicted = model.predict(X)
    assert predicted.tolist() == [1, 1], (
        f"predict(X) with every probability exactly 0.5 gave {predicted}; expected [1, 1] "
        "(1 where proba >= threshold)"
    )
    model.w_, model.b_ = np.array([1000.0]), 0.0
    X = np.array([[1.0], [-1.0]])  # probabilities exactly 1.0 and 0.0
    for threshold, expected in [(1.0, [1, 0]), (0.0, [1, 1])]:
        predicted = model.predict(X, threshold=threshold)
        assert predicted.tolist() == expected, (
            f"predict(X, threshold={threshold}) with probabilities exactly [1.0, 0.0] gave "
            f"{predicted}; expected {expected} (1 where proba >= threshold)"
        )


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.9])
def test_predict_thresholds_the_probabilities_and_returns_integers(solution, threshold):
    X, y = overlapping_classes(seed=11, n=60, d=3)
    model = solution.LogisticRegression(n_iters=100).fit(X, y)
    proba = torch_sigmoid(X @ np.asarray(model.w_) + model.b_)
    assert np.abs(proba - threshold).min() > 1e-9  # no tie: ties are tested above
    predicted = model.predict(X, threshold=threshold)
    call = f"predict(X, threshold={threshold})"
    assert isinstance(predicted, np.ndarray) and np.issubdtype(predicted.dtype, np.integer), (
        f"{call} returned {type(predicted).__name__} of dtype "
        f"{getattr(predicted, 'dtype', None)}, expected an integer np.ndarray"
    )
    expected = (proba >= threshold).astype(np.int64)
    assert predicted.shape == expected.shape and np.array_equal(predicted, expected), (
        f"{call} should be 1 where predict_proba(X) >= {threshold}: got {predicted}, "
        f"expected {expected}"
    )
