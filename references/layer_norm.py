"""Layer normalisation, as a function and as a module, written out by hand."""

import torch
from torch import nn


def layer_norm(
    x: torch.Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Normalise x over its trailing dims to mean 0 and variance 1, then scale and shift.

        dims = the last len(normalized_shape) dims of x
        mean = x.mean over dims                     # (..., 1, ..., 1)
        var  = ((x - mean) ** 2).mean over dims     # BIASED: divide by N, not N - 1
        out  = (x - mean) / sqrt(var + eps) * weight + bias

    Args:
        x: (..., *normalized_shape), a floating dtype (float16, bfloat16, float32,
            float64); the leading dims `...` may be absent, one or many.
        normalized_shape: the sizes of the trailing dims to normalise over: an int D
            (the last dim, of size D) or a tuple (D1, ..., Dk) of the last k dims.
        weight: None (no scaling), or normalized_shape, with x's dtype and device.
        bias: None (no shift), or normalized_shape, with x's dtype and device.
        eps: added to the variance inside the square root.

    Returns:
        (..., *normalized_shape), with x's dtype and device.

    Conventions and edge cases:
        N is the number of elements in normalized_shape (D1 * ... * Dk); each of the
        x.numel() / N groups is normalised on its own, never together with the batch.
        eps goes inside the square root: sqrt(var + eps), not sqrt(var) + eps.
        A constant group (var = 0) gives exactly bias there (0 without bias), never NaN.
        The statistics must stay accurate when every value of a group shares a large
        offset (values 1000 + N(0, 1) in float32): compute the variance from the
        centred values x - mean, not as E[x^2] - E[x]^2 in x's precision. For float16 and
        bfloat16 inputs compute in float32 (as torch does) and cast the result back.
        The inputs are left unchanged.

    Raises:
        ValueError: before any computation, if x has fewer than len(normalized_shape)
            dims or its trailing dims differ from normalized_shape; the message names
            both shapes.

    Do not use: torch.nn.functional.layer_norm, torch.nn.LayerNorm, torch.layer_norm,
    torch.nn.functional.group_norm, torch.var_mean (nor their torch.ops.aten forms).
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ValueError(
            f"layer_norm: x has shape {tuple(x.shape)}, whose trailing dims do not match "
            f"normalized_shape {shape}"
        )
    dims = tuple(range(-k, 0))
    # half precision loses too much in the sums: work in float32, cast back at the end
    h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    mean = h.mean(dim=dims, keepdim=True)  # (..., 1, ..., 1)
    centred = h - mean  # two passes: no cancellation when the group shares an offset
    var = (centred * centred).mean(dim=dims, keepdim=True)  # biased: divide by N
    out = centred * torch.rsqrt(var + eps)  # (..., *shape); var = 0 gives 0, not NaN
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.to(x.dtype)


class LayerNorm(nn.Module):
    """torch.nn.LayerNorm's behaviour: layer_norm with learnable weight and bias.

    Args:
        normalized_shape: an int D or a tuple (D1, ..., Dk), as for layer_norm.
        eps: added to the variance inside the square root.
        elementwise_affine: True gives the learnable parameters weight and bias;
            False gives none (layer_norm without weight and bias).

    Attributes (the tests read and overwrite them by these names):
        weight: nn.Parameter of shape normalized_shape (a 1-tuple for an int D),
            initialised to ones; None when elementwise_affine is False.
        bias: nn.Parameter of shape normalized_shape, initialised to zeros; None when
            elementwise_affine is False.
        The state_dict holds exactly weight and bias (nothing when elementwise_affine is
        False).

    forward(x):
        x: (..., *normalized_shape), with the module's dtype and device.
        Returns layer_norm(x, normalized_shape, weight, bias, eps): (..., *normalized_shape),
        with x's dtype and device. Raises layer_norm's ValueError for mismatched trailing
        dims.

    Do not use: torch.nn.functional.layer_norm, torch.nn.LayerNorm, torch.layer_norm,
    torch.nn.functional.group_norm, torch.var_mean (nor their torch.ops.aten forms).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        """Store the shape and eps; build weight (ones) and bias (zeros) if affine."""
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(self.normalized_shape))
            self.bias = nn.Parameter(torch.zeros(self.normalized_shape))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., *normalized_shape) -> (..., *normalized_shape)."""
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
