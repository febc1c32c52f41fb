"""Wrong: the correction term is sum_i V_if x_i^2 instead of sum_i V_if^2 x_i^2."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.w0 = nn.Parameter(torch.zeros(()))
        self.w = nn.Parameter(torch.zeros(n_features))
        self.V = nn.Parameter(0.01 * torch.randn(n_features, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = x @ self.V  # (B, k)
        squares = (x * x) @ self.V  # (B, k): V is not squared
        return self.w0 + x @ self.w + 0.5 * (summed * summed - squares).sum(dim=-1)
