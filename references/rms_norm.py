"""RMSNorm, the normalisation of Llama and T5, written out by hand."""

import torch
from torch import nn


class RMSNorm(nn.Module):
    """Scale each vector along the last dim to unit root mean square, then by weight.

        rms = sqrt(mean(x ** 2 over the last dim) + eps)     # (..., 1)
        out = x / rms * weight                               # (..., dim)

    No mean is subtracted and there is no bias (that would be LayerNorm).

    Args:
        dim: the size of the last dim of x.
        eps: added to the mean square inside the square root.

    Attributes (the tests read and overwrite them by these names):
        weight: nn.Parameter of shape (dim,), initialised to ones.
        eps: the eps given.
        The state_dict holds exactly weight.

    forward(x):
        x: (..., dim), any number of leading dims (none included), a floating dtype
            (float16, bfloat16, float32, float64).
        Returns (..., dim) on x's device. With the module cast to x's dtype
        (module.to(torch.bfloat16) for bfloat16 x), the result has x's dtype. A float32
        module given float16 or bfloat16 x may return either x's dtype or float32 (Llama's
        RMSNorm returns float32 there: it normalises in float32, casts back to x's dtype,
        then multiplies by the float32 weight); both are accepted.

    Conventions and edge cases:
        The mean is over the last dim only: each vector is normalised on its own. eps goes
        inside the square root: sqrt(mean(x^2) + eps), not sqrt(mean(x^2)) + eps. The
        weight scales the normalised x: normalising weight * x is wrong. A zero vector
        gives zeros (never NaN). For float16 and bfloat16 x, compute the mean square in
        float32 and cast back. The input is left unchanged.

    Raises:
        ValueError: before any computation, if x.shape[-1] != dim; the message names both
            sizes.

    Do not use: torch.nn.RMSNorm, torch.nn.functional.rms_norm (nor their torch.ops.aten
    forms).
    """

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        """Store eps and build weight, ones of shape (dim,)."""
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))  # (dim,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., dim) -> (..., dim)."""
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(
                f"RMSNorm({self.weight.shape[0]}) got x of shape {tuple(x.shape)}: "
                f"its last dim {x.shape[-1]} should be {self.weight.shape[0]}"
            )
        # half precision loses too much in the mean square: work in float32 (as Llama does)
        h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        mean_square = (h * h).mean(dim=-1, keepdim=True)  # (..., 1)
        normed = h * torch.rsqrt(mean_square + self.eps)  # (..., dim); x = 0 gives 0
        return normed.to(x.dtype) * self.weight  # Llama's order: float32 weight promotes
