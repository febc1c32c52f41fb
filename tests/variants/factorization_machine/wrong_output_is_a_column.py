"""Wrong: the output is a (B, 1) column, as nn.Linear(n, 1) gives, instead of (B,)."""

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
        squares = (x * x) @ (self.V * self.V)  # (B, k)
        pairs = 0.5 * (summed * summed - squares).sum(dim=-1, keepdim=True)  # (B, 1)
        return self.w0 + x @ self.w[:, None] + pairs
