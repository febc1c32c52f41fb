"""Wrong (memory only): the right value, from the (B, n, n) matrix of pairs
x x^T * V V^T, upper triangle summed: O(n^2 k) work and B n^2 memory instead of O(k n)."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.w0 = nn.Parameter(torch.zeros(()))
        self.w = nn.Parameter(torch.zeros(n_features))
        self.V = nn.Parameter(0.01 * torch.randn(n_features, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pairs = x[:, :, None] * x[:, None, :] * (self.V @ self.V.T)  # (B, n, n)
        return self.w0 + x @ self.w + pairs.triu(diagonal=1).sum(dim=(1, 2))
