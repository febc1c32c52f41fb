"""Right, another style: plain loops, one row at a time, and the smoothing term written as
logsumexp(x) - mean(x)."""

from __future__ import annotations

import math

import numpy as np
import torch


def binary_cross_entropy(y_true: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12) -> float:
    labels = np.asarray(y_true, dtype=np.float64).ravel()
    probs = np.asarray(y_prob, dtype=np.float64).ravel()
    total = 0.0
    for y, p in zip(labels, probs, strict=True):
        p = min(max(float(p), eps), 1 - eps)
        total += -(y * math.log(p) + (1 - y) * math.log(1 - p))
    return float(total / len(labels))


def categorical_cross_entropy(
    y_onehot: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12
) -> float:
    targets = np.asarray(y_onehot, dtype=np.float64)
    probs = np.asarray(y_prob, dtype=np.float64)
    total = 0.0
    for row_y, row_p in zip(targets, probs, strict=True):
        for y, p in zip(row_y, row_p, strict=True):
            total -= y * math.log(min(max(float(p), eps), 1 - eps))
    return float(total / len(targets))


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    losses = []
    kept = 0
    for row, t in zip(logits, target.tolist(), strict=True):
        if t == ignore_index:
            losses.append(row.new_zeros(()))
            continue
        kept += 1
        top = row.max()
        lse = top + (row - top).exp().sum().log()
        nll = lse - row[t]
        uniform = lse - row.mean()
        losses.append((1 - label_smoothing) * nll + label_smoothing * uniform)
    stacked = torch.stack(losses)
    if reduction == "none":
        return stacked
    if reduction == "sum":
        return stacked.sum()
    return stacked.sum() / kept
