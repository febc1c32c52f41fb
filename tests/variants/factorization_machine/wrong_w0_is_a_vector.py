"""Wrong: w0 is a parameter of shape (1,) rather than a 0-dim scalar; the output still
broadcasts to (B,), but the parameters and the state_dict do not have the agreed shapes."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.w0 = nn.Parameter(torch.zeros(1))
        self.w = nn.Parameter(torch.zeros(n_features))
        self.V = nn.Parameter(0.01 * torch.randn(n_features, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = x @ self.V  # (B, k)
        squares = (x * x) @ (self.V * self.V)  # (B, k)
        return self.w0 + x @ self.w + 0.5 * (summed * summed - squares).sum(dim=-1)
