"""Assertions for kata tests: one place, hidden from tracebacks so a learner sees their line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


def _as_tensor(x: Any) -> Any:
    if isinstance(x, np.ndarray | np.generic):
        return torch.as_tensor(np.asarray(x))
    return x


# torch.testing.assert_close's defaults; other dtypes (integers, bool) must be equal
_DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Like torch.testing.assert_close, for tensors and numpy arrays (compared as tensors).

    Type, shape, dtype and device must match; values must satisfy
    |actual - expected| <= atol + rtol * |expected| (defaults by dtype, as in torch), with
    infinities equal to themselves and NaN equal to nothing. Written here because torch's own
    first call costs half a second of imports, and a learner waits for every one.
    """
    __tracebackhide__ = True
    actual, expected = _as_tensor(actual), _as_tensor(expected)
    if not (isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor)):
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, msg=msg)
        return
    problem = None
    if actual.shape != expected.shape:
        problem = f"The shapes differ: got {tuple(actual.shape)}, expected {tuple(expected.shape)}."
    elif actual.dtype != expected.dtype:
        problem = f"The dtypes differ: got {actual.dtype}, expected {expected.dtype}."
    elif actual.device != expected.device:
        problem = f"The devices differ: got {actual.device}, expected {expected.device}."
    else:
        problem = _mismatch(actual.detach(), expected.detach(), rtol, atol)
    if problem is not None:
        raise AssertionError(
            msg(problem) if callable(msg) else f"{msg}\n{problem}" if msg else problem
        )


def _mismatch(actual: torch.Tensor, expected: torch.Tensor, rtol, atol) -> str | None:
    default_rtol, default_atol = _DEFAULT_TOLERANCES.get(actual.dtype, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a, e = actual.cpu(), expected.cpu()
    if a.is_floating_point() or a.is_complex():
        a, e = a.to(torch.float64), e.to(torch.float64)
        finite = a.isfinite() & e.isfinite()
        same = (a == e) | (finite & ((a - e).abs() <= atol + rtol * e.abs()))
    else:
        same = a == e
    if bool(same.all()):
        return None
    bad = int((~same).sum())
    diff = (a.to(torch.float64) - e.to(torch.float64)).abs()
    diff = torch.where(same, 0.0, diff.nan_to_num(nan=float("inf")))
    worst = int(diff.flatten().argmax())
    index = tuple(int(i) for i in np.unravel_index(worst, tuple(a.shape))) if a.ndim else ()
    return (
        f"Tensors are not close! Mismatched elements: {bad} / {a.numel()} "
        f"({100 * bad / max(a.numel(), 1):.1f}%). Worst at index {index}: got "
        f"{a.flatten()[worst].item()!r}, expected {e.flatten()[worst].item()!r} "
        f"(rtol={rtol:g}, atol={atol:g})."
    )


# For a kata run in low precision and compared with a float64 oracle on the same inputs:
# rtol and atol per input dtype, loose enough for the dtype's rounding through a few ops.
TOLERANCES = {
    torch.float64: {"rtol": 1e-7, "atol": 1e-7},
    torch.float32: {"rtol": 1e-5, "atol": 1e-5},
    torch.float16: {"rtol": 5e-3, "atol": 5e-3},
    torch.bfloat16: {"rtol": 3e-2, "atol": 3e-2},
}


def tolerance(dtype: torch.dtype) -> dict[str, float]:
    """`assert_close(actual, expected.to(dtype), **tolerance(dtype))`."""
    return TOLERANCES[dtype]


def _cuda_param() -> Any:
    return pytest.param(
        "cuda",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
        ],
        id="cuda",
    )


# `@pytest.mark.parametrize("device", DEVICES)`: one test body on the CPU and, marked `gpu`, CUDA
DEVICES = ["cpu", _cuda_param()]


# Samplers are judged by their distribution, never by torch's draws: a chi-square test whose
# false-failure rate is P_MIN, deterministic given the seeded generator the test passes.
P_MIN = 1e-6


def chi_square(counts: torch.Tensor, probs: torch.Tensor) -> tuple[float, float, int]:
    """Pearson's goodness-of-fit test of counts (G, V) against probs (G, V), summed over the
    G groups: (p-value, statistic, degrees of freedom). Tokens of probability 0 are left out
    (check them apart); bins expecting fewer than 5 draws are pooled, and a pool still under
    5 joins the smallest other bin. The survival function of the chi-square distribution is
    the regularised upper incomplete gamma function Q(df / 2, stat / 2)."""
    statistic, df = 0.0, 0
    for row_counts, row_probs in zip(counts.to(torch.float64), probs, strict=True):
        expected = row_probs * row_counts.sum()
        keep = expected > 0
        observed, expected = row_counts[keep], expected[keep]
        order = expected.argsort()
        observed, expected = observed[order], expected[order]
        small = expected < 5
        if small.any():
            pool_observed, pool_expected = observed[small].sum(), expected[small].sum()
            observed, expected = observed[~small], expected[~small]
            if pool_expected >= 5 or expected.numel() == 0:
                observed = torch.cat([observed, pool_observed[None]])
                expected = torch.cat([expected, pool_expected[None]])
            else:
                observed[0] += pool_observed
                expected[0] += pool_expected
        statistic += float(((observed - expected) ** 2 / expected).sum())
        df += expected.numel() - 1
    if df == 0:
        return 1.0, statistic, df
    p = torch.special.gammaincc(
        torch.tensor(df / 2, dtype=torch.float64), torch.tensor(statistic / 2, dtype=torch.float64)
    )
    return float(p), statistic, df


def assert_draws_follow(
    tokens: torch.Tensor, probs: torch.Tensor, call: str, outside: str = "whose probability is 0"
) -> None:
    """tokens (G, n) int64 drawn by call; probs (G, V) float64, the distribution of each
    group. Tokens of probability 0 must never appear; the rest must pass the chi-square
    test at p > P_MIN."""
    __tracebackhide__ = True
    G, V = probs.shape
    assert tokens.dtype == torch.int64 and tokens.shape[0] == G and tokens.ndim == 2, (
        f"{call} returned {tokens.dtype} {tuple(tokens.shape)}; expected int64 ({G}, n)"
    )
    tokens = tokens.cpu()
    assert bool(((tokens >= 0) & (tokens < V)).all()), (
        f"{call} returned token ids outside [0, {V}): {tokens.unique().tolist()}"
    )
    counts = torch.stack([torch.bincount(row, minlength=V) for row in tokens])  # (G, V)
    impossible = (probs == 0) & (counts > 0)
    if impossible.any():
        g, j = (int(i) for i in impossible.nonzero()[0])
        raise AssertionError(
            f"{call} drew token {j}, {outside}, {int(counts[g, j])} times "
            f"out of {tokens.shape[1]} in row group {g}"
        )
    p, statistic, df = chi_square(counts, probs)
    freq = counts[0].double() / counts[0].sum()
    assert p > P_MIN, (
        f"{call}: the draws do not follow the expected distribution (chi-square {statistic:.1f} "
        f"on {df} degrees of freedom, p = {p:.2g}; a right sampler fails this once in a "
        f"million). First row group: drawn frequencies {[round(f, 4) for f in freq.tolist()]}, "
        f"expected {[round(q, 4) for q in probs[0].tolist()]}"
    )


class TensorAudit(TorchDispatchMode):
    """Records (op, shape) of every tensor an aten op returns while the audit is active, views
    included, after composite ops such as matmul and einsum have decomposed into mm, bmm, mul.
    For tests that prove a solution never builds a large intermediate. Subclasses may count
    more by overriding `seen`."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # else the first use imports torch._dynamo: seconds, and nothing needed

    def __init__(self) -> None:
        super().__init__()
        self.produced: list[tuple[str, tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        self.produced += [(str(func), tuple(t.shape)) for t in tensors]
        self.seen(func, args, tensors)
        return out

    def seen(self, func: Any, args: tuple, produced: list[torch.Tensor]) -> None:
        """Called after each op with its arguments and the tensors it returned."""


def skip_dynamo_import(*functions: Any) -> None:
    """torch wraps some functions (torch.optim's Optimizer methods, its functional adam) in
    torch._disable_dynamo, whose first call imports torch._dynamo (seconds) only to look up a
    cached attribute. Kata tests compile nothing: set that cache to the plain function. If a
    torch release changes the mechanism, this does nothing and the first call is just slower."""
    for function in functions:
        raw = getattr(function, "__wrapped__", None)
        if raw is not None and not hasattr(raw, "__dynamo_disable"):
            setattr(raw, "__dynamo_disable", raw)
