"""Right: the root mean square from torch.linalg.vector_norm, computed in float64 and
cast back to x's dtype."""

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
        h = x.double()
        rms = torch.linalg.vector_norm(h, dim=-1, keepdim=True) / h.shape[-1] ** 0.5
        normed = h / torch.sqrt(rms * rms + self.eps)
        return (normed * self.weight.double()).to(x.dtype)
