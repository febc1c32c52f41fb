"""Cross-entropy losses: binary and categorical from probabilities (numpy), and from logits
(torch), with PyTorch's ignore_index, label smoothing and reductions."""

from __future__ import annotations

import numpy as np
import torch


def binary_cross_entropy(y_true: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12) -> float:
    """Mean binary cross-entropy of predicted probabilities.

        loss = mean over every element of  -[y log p + (1 - y) log(1 - p)],
        where p = clip(y_prob, eps, 1 - eps)

    Args:
        y_true: (...) labels in [0, 1]; hard 0/1 labels or soft ones.
        y_prob: (...) predicted probabilities in [0, 1], the same shape as y_true.
        eps: the clipping margin, 0 < eps < 0.5.

    Returns:
        The mean loss as a Python float (an np.float64, a float subclass, also does).

    Conventions:
        Computed in float64 whatever the input dtype: in float32, 1 - 1e-12 rounds to 1.
        Clipping keeps exact 0 and 1 finite: y = 1, p = 0 costs -log(eps) (27.631... for
        the default eps), not the 100 that torch's clamp of the log gives; y = 0, p = 1
        costs the same up to the rounding of 1 - eps.

    Do not use: torch (numpy only), torch.nn.functional.binary_cross_entropy*.
    """
    y = np.asarray(y_true, dtype=np.float64)  # (...)
    # float64 first: in float32, 1 - 1e-12 rounds to 1 and log(1 - p) is -inf again
    p = np.clip(np.asarray(y_prob, dtype=np.float64), eps, 1 - eps)  # (...)
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))  # (...)
    return float(losses.mean())


def categorical_cross_entropy(
    y_onehot: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12
) -> float:
    """Mean categorical cross-entropy of predicted class probabilities.

        loss = mean over the N rows of  -sum_c y[n, c] log p[n, c],
        where p = clip(y_prob, eps, 1 - eps)

    Args:
        y_onehot: (N, C) target distributions: one-hot rows, or soft labels (rows of
            non-negative weights, usually summing to 1).
        y_prob: (N, C) predicted probabilities, each row summing to 1.
        eps: the clipping margin, 0 < eps < 0.5.

    Returns:
        The mean loss over rows (not over the N * C elements) as a Python float (an
        np.float64, a float subclass, also does).

    Conventions:
        Computed in float64 whatever the input dtype. Clipping keeps exact 0 finite: a
        target class predicted with p = 0 costs exactly -log(eps).

    Do not use: torch (numpy only).
    """
    y = np.asarray(y_onehot, dtype=np.float64)  # (N, C)
    p = np.clip(np.asarray(y_prob, dtype=np.float64), eps, 1 - eps)  # (N, C)
    per_row = -(y * np.log(p)).sum(axis=1)  # (N,)
    return float(per_row.mean())  # over rows, not over the N * C elements


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy from unnormalised logits, with torch.nn.functional.cross_entropy's
    semantics exactly.

        logp = log_softmax(logits) over C, computed stably (|logits| up to 1e4 stay finite)
        loss[n] = (1 - ls) * -logp[n, target[n]] + ls * mean_c(-logp[n, c])
        loss[n] = 0 where target[n] == ignore_index

    Args:
        logits: (N, C) float tensor, any float dtype, any device.
        target: (N,) int64 class indices in [0, C), or ignore_index.
        ignore_index: rows whose target equals it contribute 0 and are left out of the
            mean's denominator. It may be a valid class index.
        label_smoothing: ls in [0, 1]: the target becomes (1 - ls) * one_hot + ls / C
            (uniform over all C classes, the true class included); ignored rows stay 0.
        reduction: "none" -> (N,) losses (0 at ignored rows); "sum" -> 0-d sum;
            "mean" -> 0-d sum divided by the number of rows not ignored.

    Returns:
        A tensor of the logits' dtype and device, differentiable with respect to logits.

    Raises:
        ValueError: for any other reduction.

    Edge cases: a "mean" over zero rows not ignored is unspecified (torch gives nan).

    Do not use: torch.nn.functional.cross_entropy, torch.nn.functional.nll_loss,
    torch.nn.functional.log_softmax, torch.log_softmax, torch.Tensor.log_softmax,
    torch.special.log_softmax, torch.logsumexp, torch.Tensor.logsumexp,
    torch.nn.CrossEntropyLoss, torch.nn.NLLLoss.
    """
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"reduction must be 'none', 'sum' or 'mean', not {reduction!r}")

    # log_softmax = x - logsumexp(x); shift by the row max first so that exp never
    # overflows and the largest term is exp(0) = 1, so the log never sees 0.
    # The shift cancels in the result, so it is a constant for the gradient.
    shift = logits.amax(dim=1, keepdim=True).detach()  # (N, 1)
    shifted = logits - shift  # (N, C), every entry <= 0
    logp = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (N, C)

    keep = target != ignore_index  # (N,)
    safe_target = torch.where(keep, target, 0)  # (N,) ignored rows gather a valid class
    nll = -logp.gather(1, safe_target[:, None]).squeeze(1)  # (N,)
    uniform = -logp.mean(dim=1)  # (N,) cross-entropy against the uniform target
    losses = (1 - label_smoothing) * nll + label_smoothing * uniform  # (N,)
    losses = torch.where(keep, losses, 0)  # ignored rows contribute exactly 0

    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / keep.sum()  # mean over the rows not ignored
