"""Right: the identity written with einsum, the linear term folded in, w0 added last."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.w0 = nn.Parameter(torch.tensor(0.0))
        self.w = nn.Parameter(torch.zeros(n_features))
        self.V = nn.Parameter(torch.randn(n_features, k) / 100)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sum_sq = torch.einsum("bi,if->bf", x, self.V).pow(2)  # (B, k)
        sq_sum = torch.einsum("bi,if->bf", x.pow(2), self.V.pow(2))  # (B, k)
        interactions = (sum_sq - sq_sum).sum(-1) / 2  # (B,)
        return torch.einsum("bi,i->b", x, self.w) + interactions + self.w0
