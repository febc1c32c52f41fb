"""Wrong: half the square of sum_i V_if x_i, without subtracting the squares i = j, so the
pairwise term also counts 1/2 |V_i|^2 x_i^2 for every feature."""

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
        return self.w0 + x @ self.w + 0.5 * (summed * summed).sum(dim=-1)
