"""Wrong: one mask of the last dim's size, broadcast over every row."""

import torch


def dropout(
    x: torch.Tensor,
    p: float,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Zero each element of x with probability p and scale the survivors by 1 / (1 - p),
    so that the expected output equals x ("inverted" dropout: nothing to undo at test time).

        keep ~ Bernoulli(1 - p), independently for every element of x
        out  = x * keep / (1 - p)

    Args:
        x: (...) any shape (a 0-dim tensor and an empty tensor included), a floating dtype
            (float16, bfloat16, float32, float64), on any device.
        p: the probability of zeroing an element, a Python float with 0 <= p <= 1.
        training: False means evaluation: return x unchanged in value.
        generator: the torch.Generator (on x's device) every random draw must use, so that
            the same seed gives the same mask; None means torch's default generator.

    Returns:
        (...) with x's shape, dtype and device: 0 where an element was dropped, exactly
        x / (1 - p) (up to the dtype's rounding) where it was kept.

    Conventions and edge cases:
        Every element gets its own draw: no mask is shared along any dim (no row-wise,
        column-wise or channel-wise masks). p = 0 returns x's values (every element kept);
        p = 1 returns zeros, never NaN (do not divide 0 by 1 - p = 0), with a zero
        gradient. training=False returns x's values for any valid p. Gradients flow to
        x through the survivors only, scaled by 1 / (1 - p). The input is left unchanged
        (no in-place ops on x). Drawing with torch.rand or torch.bernoulli and the given
        generator is fine; how the mask is drawn from the generator is up to you.

    Raises:
        ValueError: if p < 0 or p > 1, before anything else, even when training=False.

    Do not use: torch.nn.functional.dropout, torch.nn.Dropout, torch.dropout,
    torch.nn.functional.alpha_dropout, torch.feature_dropout.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must lie in [0, 1], got {p}")
    if not training or p == 0.0:
        return x.clone()
    # one uniform draw per element, in float32 whatever x's dtype: a bfloat16 draw has
    # only 256 levels, which would bend the probability of keeping an element
    u = torch.rand(x.shape[-1:], generator=generator, device=x.device)  # (...)
    keep = u >= p  # P(keep) = 1 - p; p = 1 keeps nothing since u < 1
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # never 0 / 0
    return x * keep.to(x.dtype) * scale  # (...), x's dtype and device
