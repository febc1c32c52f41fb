"""Wrong: computes in float32 whatever the input's dtype, so a float64 module and input
get a float32 answer (and float64 precision is lost)."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.w0 = nn.Parameter(torch.zeros(()))
        self.w = nn.Parameter(torch.zeros(n_features))
        self.V = nn.Parameter(0.01 * torch.randn(n_features, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, w0, w, V = (t.float() for t in (x, self.w0, self.w, self.V))
        summed = x @ V  # (B, k)
        squares = (x * x) @ (V * V)  # (B, k)
        return w0 + x @ w + 0.5 * (summed * summed - squares).sum(dim=-1)
