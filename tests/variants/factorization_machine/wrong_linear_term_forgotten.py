"""Wrong: only w0 and the pairwise interactions; the linear term x . w is left out."""

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
        return self.w0 + 0.5 * (summed * summed - squares).sum(dim=-1)
