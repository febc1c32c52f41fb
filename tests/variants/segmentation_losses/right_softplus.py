"""Right: the cross-entropy as softplus terms (-log sigmoid(x) = softplus(-x)), and Dice
with a loop over the samples."""

import torch
import torch.nn.functional as F


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    p = torch.sigmoid(logits)
    losses = []
    for p_n, t_n in zip(p, target, strict=True):
        dice = (2 * (p_n * t_n).sum() + smooth) / (p_n.sum() + t_n.sum() + smooth)
        losses.append(1 - dice)
    return torch.stack(losses).mean()


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    if reduction not in {"none", "mean", "sum"}:
        raise ValueError(f"reduction {reduction!r} is not one of 'none', 'mean', 'sum'")
    ce = target * F.softplus(-logits) + (1 - target) * F.softplus(logits)
    p = torch.sigmoid(logits)
    loss = ce * (p * (1 - target) + (1 - p) * target) ** gamma
    if alpha >= 0:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
