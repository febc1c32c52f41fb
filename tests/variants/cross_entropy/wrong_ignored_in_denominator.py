"""Wrong: the mean divides by every row, ignored ones included."""

from __future__ import annotations

import numpy as np
import torch


def binary_cross_entropy(y_true: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12) -> float:
    y = np.asarray(y_true, dtype=np.float64)
    p = np.clip(np.asarray(y_prob, dtype=np.float64), eps, 1 - eps)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def categorical_cross_entropy(
    y_onehot: np.ndarray, y_prob: np.ndarray, eps: float = 1e-12
) -> float:
    y = np.asarray(y_onehot, dtype=np.float64)
    p = np.clip(np.asarray(y_prob, dtype=np.float64), eps, 1 - eps)
    return float(np.mean(-(y * np.log(p)).sum(axis=1)))


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
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    logp = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    keep = target != ignore_index
    nll = -logp.gather(1, torch.where(keep, target, 0)[:, None]).squeeze(1)
    losses = (1 - label_smoothing) * nll + label_smoothing * -logp.mean(dim=1)
    losses = torch.where(keep, losses, 0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.mean()
