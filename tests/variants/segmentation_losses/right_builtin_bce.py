"""Right: the elementwise cross-entropy from torch's binary_cross_entropy_with_logits (as
torchvision does), the alpha weight as one affine map of t, and Dice on
flattened samples."""

import torch
import torch.nn.functional as F


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    dice = (2 * (p * t).sum(1) + smooth) / (p.sum(1) + t.sum(1) + smooth)
    return 1 - dice.sum() / len(dice)


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p = torch.sigmoid(logits)
    one_minus_p_t = p + target - 2 * p * target  # 1 - (p t + (1 - p)(1 - t))
    loss = ce * one_minus_p_t.pow(gamma)
    if alpha >= 0:
        loss = loss * (1 - alpha + (2 * alpha - 1) * target)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"unknown reduction {reduction!r}: use 'none', 'mean' or 'sum'")
