"""Two losses for imbalanced binary masks: soft Dice and sigmoid focal loss."""

import torch


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Soft Dice loss of sigmoid probabilities, per sample, then averaged over the batch.

        p       = sigmoid(logits)
        dice[n] = (2 * sum(p[n] * t[n]) + smooth) / (sum(p[n]) + sum(t[n]) + smooth)
        loss    = mean over n of (1 - dice[n])

    where each sum runs over every dim but the batch dim (C, H, W) of sample n.

    Args:
        logits: (N, C, H, W) raw scores (C is 1 for a binary mask), a floating dtype.
        target: (N, C, H, W) the mask, values in [0, 1] (1 = foreground; soft values are
            allowed), with logits' dtype and device.
        smooth: added to the numerator and to the denominator, so that a sample with an
            empty mask and an empty prediction has loss 0 instead of 0 / 0.

    Returns:
        A 0-dim tensor with logits' dtype and device.

    Conventions and edge cases:
        The Dice ratio is computed for each sample on its own and the N losses are then
        averaged; the sums are never pooled over the whole batch. The loss must stay finite,
        with finite gradients, for logits as large as +-50. The inputs are left unchanged.

    Do not use: torchvision (any of it: torchvision.ops.sigmoid_focal_loss).
    """
    raise NotImplementedError


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al. 2017), elementwise, as torchvision.ops.sigmoid_focal_loss.

        p       = sigmoid(logits)
        ce      = binary cross-entropy of logits against target, elementwise:
                  -(t * log(p) + (1 - t) * log(1 - p))
        p_t     = p * t + (1 - p) * (1 - t)
        loss    = ce * (1 - p_t) ** gamma
        alpha_t = alpha * t + (1 - alpha) * (1 - t);  loss = alpha_t * loss  if alpha >= 0

    Args:
        logits: (*) raw scores of any shape, a floating dtype.
        target: (*) same shape, values in [0, 1] (1 = positive; soft values are allowed),
            with logits' dtype and device.
        alpha: the weight of the positives (1 - alpha weights the negatives), in [0, 1]; a
            negative alpha (e.g. -1) means no weighting at all.
        gamma: the focusing exponent, >= 0; gamma = 0 gives plain (alpha-weighted)
            cross-entropy.
        reduction: "none" (the (*) elementwise losses), "mean" or "sum" (0-dim).

    Returns:
        The loss with logits' dtype and device: shape (*) for "none", 0-dim otherwise.

    Conventions and edge cases:
        ce must be computed from the logits in a numerically stable way: for logits as
        large as +-50 the loss and its gradients stay finite (log(sigmoid(x)) and
        log(1 - sigmoid(x)) computed as written give -inf there). The inputs are left
        unchanged.

    Raises:
        ValueError: if reduction is not "none", "mean" or "sum"; the message names it.

    Do not use: torchvision (any of it: torchvision.ops.sigmoid_focal_loss).
    """
    raise NotImplementedError
