"""Wrong: divides the squared deviations by N - 1 (the unbiased variance, torch.var's
default) instead of N."""

import torch
from torch import nn


def layer_norm(
    x: torch.Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ValueError(f"x has shape {tuple(x.shape)}, not (..., *{shape})")
    dims = tuple(range(-k, 0))
    h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    mean = h.mean(dim=dims, keepdim=True)
    centred = h - mean
    n = 1
    for d in dims:
        n *= x.shape[d]
    var = (centred * centred).sum(dim=dims, keepdim=True) / (n - 1)
    out = centred * torch.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.to(x.dtype)


class LayerNorm(nn.Module):
    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
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
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
