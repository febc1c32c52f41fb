"""Tests for the cross_entropy kata.

Oracles: torch's own losses in float64 where their conventions agree with the kata's, and
naive loops written here for clipping at exact 0 and 1, where torch clamps the log at -100.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close

EPS = 1e-12
REDUCTIONS = ["mean", "sum", "none"]


# --- helpers: oracles, inputs, checks ------------------------------------------------------


def naive_bce(y_true: np.ndarray, y_prob: np.ndarray, eps: float = EPS) -> float:
    total = 0.0
    ys, ps = np.ravel(y_true).tolist(), np.ravel(y_prob).tolist()
    for y, p in zip(ys, ps, strict=True):
        p = min(max(p, eps), 1 - eps)
        total -= y * math.log(p) + (1 - y) * math.log(1 - p)
    return total / len(ys)


def naive_cce(y_onehot: np.ndarray, y_prob: np.ndarray, eps: float = EPS) -> float:
    rows = list(zip(np.asarray(y_onehot).tolist(), np.asarray(y_prob).tolist(), strict=True))
    total = 0.0
    for ys, ps in rows:
        for y, p in zip(ys, ps, strict=True):
            total -= y * math.log(min(max(p, eps), 1 - eps))
    return total / len(rows)


def torch_bce(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    p = torch.as_tensor(y_prob, dtype=torch.float64)
    return F.binary_cross_entropy(p, torch.as_tensor(y_true, dtype=torch.float64)).item()


def torch_cce(y_onehot: np.ndarray, y_prob: np.ndarray) -> float:
    """Mean over rows of -sum y log p: F.cross_entropy of log p with probability targets
    (log_softmax leaves log p unchanged when each row of p sums to 1)."""
    log_p = torch.as_tensor(y_prob, dtype=torch.float64).log()
    return F.cross_entropy(log_p, torch.as_tensor(y_onehot, dtype=torch.float64)).item()


def assert_float(result: object, expected: float, call: str, **tolerances: float) -> None:
    __tracebackhide__ = True
    assert isinstance(result, float), (
        f"{call} returned {type(result).__name__}; expected a Python float"
    )
    assert_close(
        torch.tensor(result, dtype=torch.float64),
        torch.tensor(expected, dtype=torch.float64),
        msg=lambda m: f"{call} should be {expected!r}, got {result!r}\n{m}",
        **tolerances,
    )


def probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Probabilities well inside (0, 1), so the losses are O(1) and clipping plays no part."""
    return rng.uniform(0.05, 0.95, size=shape)


def labels(rng: np.random.Generator, shape: tuple[int, ...], soft: bool) -> np.ndarray:
    return rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape).astype(float)


def softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classification(
    n: int = 12,
    c: int = 5,
    seed: int = 0,
    n_ignored: int = 0,
    ignore_index: int = -100,
    device: str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C) float64 logits with O(1) losses and (N,) targets, n_ignored of them ignored,
    drawn on the CPU and moved to device."""
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(n, c, generator=g, dtype=torch.float64)
    target = torch.randint(0, c, (n,), generator=g)
    target[torch.randperm(n, generator=g)[:n_ignored]] = ignore_index
    return logits.to(device), target.to(device)


# the keyword settings graded for values and gradients, with every reduction
OPTIONS = [
    pytest.param({}, 0, id="defaults"),
    pytest.param({"ignore_index": -100}, 4, id="ignore_index_-100"),
    pytest.param({"ignore_index": 2}, 3, id="ignore_index_is_a_real_class"),
    pytest.param({"label_smoothing": 0.1}, 0, id="label_smoothing"),
    pytest.param({"label_smoothing": 0.3, "ignore_index": -100}, 4, id="smoothing_and_ignore"),
    pytest.param({"label_smoothing": 1.0, "ignore_index": 0}, 3, id="full_smoothing_and_ignore"),
]


def call_text(options: dict, reduction: str, device: str = "cpu") -> str:
    kwargs = "".join(f", {k}={v!r}" for k, v in options.items())
    where = "" if device == "cpu" else f" on {device}"
    return f"cross_entropy(logits, target{kwargs}, reduction={reduction!r}){where}"


# --- the README's worked example -------------------------------------------------------------


def test_the_readme_worked_example_holds(solution):
    bce = solution.binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.9, 0.2]))
    assert_float(bce, 0.164252, "binary_cross_entropy([1, 0], [0.9, 0.2])", rtol=0, atol=1e-6)
    clipped = solution.binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.0, 0.2]))
    assert_float(clipped, 13.927082, "binary_cross_entropy([1, 0], [0, 0.2])", rtol=0, atol=1e-6)

    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    cce = solution.categorical_cross_entropy(y, p)
    assert_float(cce, 0.524911, "categorical_cross_entropy(y, p)", rtol=0, atol=1e-6)

    logits = torch.tensor([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    expected = {
        "cross_entropy(logits, [0, 2], reduction='none')": (
            solution.cross_entropy(logits, torch.tensor([0, 2]), reduction="none"),
            torch.tensor([0.407606, 1.098612]),
        ),
        "cross_entropy(logits, [0, 2])": (
            solution.cross_entropy(logits, torch.tensor([0, 2])),
            torch.tensor(0.753109),
        ),
        "cross_entropy(logits, [0, -100])": (
            solution.cross_entropy(logits, torch.tensor([0, -100])),
            torch.tensor(0.407606),
        ),
        "cross_entropy(logits, [0, -100], label_smoothing=0.1)": (
            solution.cross_entropy(logits, torch.tensor([0, -100]), label_smoothing=0.1),
            torch.tensor(0.507606),
        ),
    }
    for call, (got, want) in expected.items():
        assert_close(got, want, rtol=0, atol=1e-5, msg=lambda m, c=call: f"{c}: {m}")


# --- binary_cross_entropy ------------------------------------------------------------------


@pytest.mark.parametrize("soft", [False, True], ids=["hard_labels", "soft_labels"])
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)], ids=str)
def test_binary_cross_entropy_matches_torch_inside_the_open_interval(solution, shape, soft):
    rng = np.random.default_rng(1)
    y, p = labels(rng, shape, soft), probabilities(rng, shape)
    result = solution.binary_cross_entropy(y, p)
    assert_float(result, torch_bce(y, p), f"binary_cross_entropy(y, p) with shape {shape}")


@pytest.mark.parametrize("eps", [1e-12, 1e-7], ids=["eps_1e-12", "eps_1e-7"])
def test_binary_cross_entropy_clips_exact_zero_and_one_to_minus_log_eps(solution, eps):
    # a confident miss costs -log(eps) (27.63 for 1e-12), never inf nor torch's 100
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.6])
    result = solution.binary_cross_entropy(y, p, eps=eps)
    call = f"binary_cross_entropy({y.tolist()}, {p.tolist()}, eps={eps})"
    assert_float(result, naive_bce(y, p, eps), call, rtol=1e-6, atol=0)


def test_binary_cross_entropy_of_a_confident_miss_is_minus_log_eps(solution):
    # 1 - (1 - eps) is eps only up to rounding (4e-7 relative): rtol 1e-6 allows either
    # log(1 - clip(p)) or log(clip(1 - p)), and still tells 27.63 from inf, nan and 100
    result = solution.binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    call = "binary_cross_entropy([1, 0], [0, 1])"
    assert_float(result, -math.log(EPS), call, rtol=1e-6, atol=0)


def test_binary_cross_entropy_works_in_float64_for_float32_inputs(solution):
    # 1 - 1e-12 is 1 in float32: clipping there would hand log(0) back
    y = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32)
    p = np.array([[0.0, 1.0, 0.75], [0.25, 1.0, 0.0]], dtype=np.float32)
    result = solution.binary_cross_entropy(y, p)
    call = "binary_cross_entropy(y, p) with float32 inputs"
    assert_float(result, naive_bce(y, p), call, rtol=1e-6, atol=0)


@settings(max_examples=40)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
    seed=st.integers(0, 2**32 - 1),
    soft=st.booleans(),
    extremes=st.floats(0, 1),
)
def test_binary_cross_entropy_is_the_clipped_mean_and_lies_in_0_to_minus_log_eps(
    solution, shape, seed, soft, extremes
):
    rng = np.random.default_rng(seed)
    y = labels(rng, shape, soft)
    p = rng.uniform(0, 1, size=shape)
    exact = rng.uniform(size=shape) < extremes
    p[exact] = rng.integers(0, 2, size=shape)[exact]  # some exactly 0 or 1
    result = solution.binary_cross_entropy(y, p)
    call = f"binary_cross_entropy(y, p) with shape {shape}"
    assert_float(result, naive_bce(y, p), call, rtol=1e-6, atol=1e-12)
    # the upper bound allows for the rounding of 1 - eps (4e-7 relative)
    bound = -math.log(EPS) * (1 + 1e-6)
    assert 0 <= result <= bound, f"{call} = {result}, outside [0, -log eps]"


# --- categorical_cross_entropy -------------------------------------------------------------


@pytest.mark.parametrize("soft", [False, True], ids=["one_hot", "soft_labels"])
@pytest.mark.parametrize(("n", "c"), [(1, 4), (6, 3), (10, 7)], ids=lambda v: str(v))
def test_categorical_cross_entropy_is_a_mean_over_rows_matching_torch(solution, n, c, soft):
    rng = np.random.default_rng(3)
    p = softmax_rows(rng.normal(size=(n, c)))
    y = softmax_rows(2 * rng.normal(size=(n, c))) if soft else np.eye(c)[rng.integers(0, c, n)]
    result = solution.categorical_cross_entropy(y, p)
    assert_float(result, torch_cce(y, p), f"categorical_cross_entropy(y, p) with shape {(n, c)}")


def test_categorical_cross_entropy_clips_exact_zero_and_one(solution):
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    p = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [0.0, 0.5, 0.5]])
    result = solution.categorical_cross_entropy(y, p)
    call = f"categorical_cross_entropy({y.tolist()}, {p.tolist()})"
    assert_float(result, naive_cce(y, p), call, rtol=1e-6, atol=0)
    eps_result = solution.categorical_cross_entropy(y, p, eps=1e-4)
    assert_float(eps_result, naive_cce(y, p, 1e-4), call[:-1] + ", eps=1e-4)", rtol=1e-6, atol=0)


def test_categorical_cross_entropy_works_in_float64_for_float32_inputs(solution):
    y = np.array([[1, 0], [0, 1]], dtype=np.float32)
    p = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    result = solution.categorical_cross_entropy(y, p)
    call = "categorical_cross_entropy(y, p) with float32 inputs"
    assert_float(result, naive_cce(y, p), call, rtol=1e-6, atol=0)


@settings(max_examples=40)
@given(
    n=st.integers(1, 12),
    c=st.integers(2, 8),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.1, 2.0),
)
def test_one_hot_categorical_cross_entropy_equals_cross_entropy_of_log_probabilities(
    solution, n, c, seed, scale
):
    rng = np.random.default_rng(seed)
    p = softmax_rows(scale * rng.normal(size=(n, c)))  # rows sum to 1, entries >> eps
    classes = rng.integers(0, c, size=n)
    cce = solution.categorical_cross_entropy(np.eye(c)[classes], p)
    log_p, target = torch.as_tensor(np.log(p)), torch.as_tensor(classes)
    expected = F.cross_entropy(log_p, target).item()
    assert_float(cce, expected, f"categorical_cross_entropy(one_hot, p) with shape {(n, c)}")
    from_logits = solution.cross_entropy(log_p, target)
    assert_close(
        from_logits,
        torch.tensor(cce, dtype=torch.float64),
        msg=lambda m: f"cross_entropy(log p, target) should equal the one-hot CCE {cce}\n{m}",
    )


# --- cross_entropy from logits: values and gradients ---------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("options", "n_ignored"), OPTIONS)
@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_matches_torch(solution, device, options, n_ignored, reduction):
    ignore_index = options.get("ignore_index", -100)
    logits, target = classification(seed=4, n_ignored=n_ignored, ignore_index=ignore_index)
    result = solution.cross_entropy(
        logits.to(device), target.to(device), **options, reduction=reduction
    )
    expected = F.cross_entropy(logits, target, **options, reduction=reduction)
    call = call_text(options, reduction, device)
    assert_close(result, expected.to(device), msg=lambda m: f"{call}: {m}")


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_values_and_gradients_live_on_the_device_of_the_logits(solution, device):
    logits, target = classification(seed=12, n_ignored=3)
    options = {"label_smoothing": 0.2}
    mine = logits.clone().to(device).requires_grad_()
    result = solution.cross_entropy(mine, target.to(device), **options)
    result.backward()
    theirs = logits.clone().requires_grad_()
    expected = F.cross_entropy(theirs, target, **options)
    expected.backward()
    call = f"{call_text(options, 'mean')} on {device}"
    assert_close(result.detach().cpu(), expected.detach(), msg=lambda m: f"{call}: {m}")
    assert result.device == mine.device, f"{call} returned a tensor on {result.device}"
    assert_close(mine.grad.cpu(), theirs.grad, msg=lambda m: f"{call}, gradient: {m}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("options", "n_ignored"), OPTIONS)
@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_gradients_match_torch(solution, device, options, n_ignored, reduction):
    ignore_index = options.get("ignore_index", -100)
    logits, target = classification(seed=5, n_ignored=n_ignored, ignore_index=ignore_index)
    # "none" is weighted per row, so every row's gradient is checked on its own
    weights = torch.rand(logits.shape[0], generator=torch.Generator().manual_seed(6)) + 0.5
    weights = weights.double() if reduction == "none" else 1.0
    call = call_text(options, reduction, device)

    mine = logits.clone().to(device).requires_grad_()
    result = solution.cross_entropy(mine, target.to(device), **options, reduction=reduction)
    mine_weights = weights.to(device) if reduction == "none" else weights
    (result * mine_weights).sum().backward()
    theirs = logits.clone().requires_grad_()
    expected = F.cross_entropy(theirs, target, **options, reduction=reduction)
    (expected * weights).sum().backward()
    assert mine.grad is not None, f"{call} is not differentiable"
    assert_close(
        mine.grad,
        theirs.grad.to(device),
        msg=lambda m: f"gradient of {call} w.r.t. logits: {m}",
    )


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1], ids=["plain", "smoothed"])
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("device", DEVICES)
def test_logits_of_plus_minus_1e4_give_finite_exact_losses_and_gradients(
    solution, device, dtype, reduction, label_smoothing
):
    # each row's target loss is 2e4, 0, 1e4 and 2e4 + log 2: huge, and finite
    logits = torch.tensor(
        [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype
    )
    target = torch.tensor([1, 1, 0, 2])
    kwargs = {"label_smoothing": label_smoothing, "reduction": reduction}
    where = "" if device == "cpu" else f" on {device}"
    call = f"cross_entropy(±1e4 logits in {dtype}{where}, target, {kwargs})"

    mine = logits.clone().to(device).requires_grad_()
    result = solution.cross_entropy(mine, target.to(device), **kwargs)
    theirs = logits.double().requires_grad_()
    expected = F.cross_entropy(theirs, target, **kwargs)
    assert torch.isfinite(result).all(), f"{call} = {result}, expected finite {expected}"
    like_mine = {"device": device, "dtype": dtype}
    assert_close(result, expected.to(**like_mine), msg=lambda m: f"{call}: {m}")

    result.sum().backward()
    expected.sum().backward()
    assert mine.grad is not None, f"{call} is not differentiable"
    assert torch.isfinite(mine.grad).all(), f"gradient of {call} is not finite: {mine.grad}"
    assert_close(mine.grad, theirs.grad.to(**like_mine), msg=lambda m: f"gradient of {call}: {m}")


# --- cross_entropy: types, shapes, dtypes, errors ------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("device", DEVICES)
def test_mean_and_sum_return_a_0d_tensor_and_none_one_loss_per_row(solution, device, reduction):
    logits, target = classification(n=6, seed=7, n_ignored=2, device=device)
    result = solution.cross_entropy(logits, target, reduction=reduction)
    expected_shape = (6,) if reduction == "none" else ()
    call = call_text({}, reduction, device)
    assert isinstance(result, torch.Tensor), (
        f"{call} returned {type(result).__name__}, expected a torch.Tensor"
    )
    assert tuple(result.shape) == expected_shape, (
        f"{call} has shape {tuple(result.shape)}, expected {expected_shape}"
    )
    assert result.device == logits.device, f"{call} returned a tensor on {result.device}"
    if reduction == "none":
        ignored = target == -100
        assert (result[ignored] == 0).all(), (
            f"{call} at ignored rows is {result[ignored]}, expected exactly 0"
        )


TOLERANCES = {
    torch.float32: {},
    torch.float16: {"rtol": 2e-3, "atol": 2e-3},
    torch.bfloat16: {"rtol": 2e-2, "atol": 2e-2},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", list(TOLERANCES), ids=str)
@pytest.mark.parametrize("device", DEVICES)
def test_the_loss_has_the_dtype_of_the_logits(solution, device, dtype, reduction):
    logits, target = classification(seed=8, n_ignored=3)
    logits = logits.to(dtype)
    result = solution.cross_entropy(
        logits.to(device), target.to(device), label_smoothing=0.1, reduction=reduction
    )
    expected = F.cross_entropy(logits.double(), target, label_smoothing=0.1, reduction=reduction)
    where = "" if device == "cpu" else f" on {device}"
    call = (
        f"cross_entropy({dtype} logits{where}, target, label_smoothing=0.1, "
        f"reduction={reduction!r})"
    )
    assert_close(
        result,
        expected.to(device=device, dtype=dtype),
        **TOLERANCES[dtype],
        msg=lambda m: f"{call}: {m}",
    )


@pytest.mark.parametrize("device", DEVICES)
def test_non_contiguous_logits_and_targets_are_handled(solution, device):
    """The views are taken on the device: moving a strided tensor would make it contiguous."""
    g = torch.Generator().manual_seed(9)
    drawn_logits = 2 * torch.randn(5, 10, generator=g, dtype=torch.float64)
    drawn_target = torch.randint(0, 5, (20,), generator=g)
    logits = drawn_logits.to(device).T  # (10, 5), strided
    target = drawn_target.to(device)[::2]
    mine = logits.detach().clone().requires_grad_()  # clone keeps the strides
    assert not mine.is_contiguous() and not target.is_contiguous()
    where = "" if device == "cpu" else f" on {device}"
    call = f"cross_entropy(logits.T, target[::2]){where}"
    result = solution.cross_entropy(mine, target, reduction="none")
    theirs = drawn_logits.T.clone().requires_grad_()
    expected = F.cross_entropy(theirs, drawn_target[::2], reduction="none")
    assert_close(result, expected.to(device), msg=lambda m: f"{call}: {m}")
    result.sum().backward()
    expected.sum().backward()
    assert_close(
        mine.grad,
        theirs.grad.to(device),
        msg=lambda m: f"{call}, gradient with strided logits: {m}",
    )


@pytest.mark.parametrize("reduction", ["average", "batchmean", "MEAN", ""])
def test_an_unknown_reduction_raises_value_error(solution, reduction):
    logits, target = classification(n=4, seed=11)
    with pytest.raises(ValueError):
        solution.cross_entropy(logits, target, reduction=reduction)


# --- cross_entropy: properties -------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=40)
@given(
    n=st.integers(1, 10),
    c=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.1, 5.0),
    shift=st.floats(-100.0, 100.0),
    label_smoothing=st.floats(0.0, 1.0),
    n_ignored=st.integers(0, 3),
)
def test_cross_entropy_is_non_negative_shift_invariant_and_matches_torch(
    solution, device, n, c, seed, scale, shift, label_smoothing, n_ignored
):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, c, generator=g, dtype=torch.float64)
    target = torch.randint(0, c, (n,), generator=g)
    target[: min(n_ignored, n - 1)] = -100  # at least one row is kept
    row_shifts = shift * torch.rand(n, 1, generator=g, dtype=torch.float64)
    kwargs = {"label_smoothing": label_smoothing, "reduction": "none"}
    where = "" if device == "cpu" else f" on {device}"
    call = f"cross_entropy(logits {tuple(logits.shape)}{where}, target, {kwargs})"
    target_on = target.to(device)

    result = solution.cross_entropy(logits.to(device), target_on, **kwargs)
    assert (result >= -1e-12).all(), f"{call} has negative losses: {result}"
    shifted = solution.cross_entropy((logits + row_shifts).to(device), target_on, **kwargs)
    assert_close(shifted, result, msg=lambda m: f"{call} changed when rows were shifted: {m}")
    expected = F.cross_entropy(logits, target, **kwargs)
    assert_close(result, expected.to(device), msg=lambda m: f"{call}: {m}")
    mean = solution.cross_entropy(logits.to(device), target_on, label_smoothing=label_smoothing)
    expected_mean = F.cross_entropy(logits, target, label_smoothing=label_smoothing)
    assert_close(mean, expected_mean.to(device), msg=lambda m: f"the 'mean' of {call}: {m}")
