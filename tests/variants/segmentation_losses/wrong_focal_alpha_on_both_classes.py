"""Wrong: multiplies every element by alpha, instead of alpha for positives and
1 - alpha for negatives."""

import torch


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    p = torch.sigmoid(logits)  # (N, C, H, W), stable in torch for any logit
    dims = tuple(range(1, logits.ndim))  # every dim but the batch: one ratio per sample
    inter = (p * target).sum(dim=dims)  # (N,)
    total = p.sum(dim=dims) + target.sum(dim=dims)  # (N,)
    dice = (2 * inter + smooth) / (total + smooth)  # (N,)
    return (1 - dice).mean()


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    p = torch.sigmoid(logits)
    # -log(sigmoid(x)) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x); in the
    # stable form max(x, 0) - x * t + log1p(exp(-|x|)) nothing overflows or hits log(0)
    ce = logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * (1 - p_t) ** gamma  # easy examples (p_t near 1) fade out
    if alpha >= 0:
        loss = alpha * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
