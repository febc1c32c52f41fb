"""Wrong: centres x before normalising (that is LayerNorm without a bias)."""

import torch
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(f"last dim {x.shape[-1]} is not {self.weight.shape[0]}")
        h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        h = h - h.mean(dim=-1, keepdim=True)
        mean_square = (h * h).mean(dim=-1, keepdim=True)
        normed = h * torch.rsqrt(mean_square + self.eps)
        return normed.to(x.dtype) * self.weight
