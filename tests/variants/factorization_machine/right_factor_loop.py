"""Right: an explicit loop over the k factors, each an (B, n) product reduced over n."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    def __init__(self, n_features: int, k: int) -> None:
        super().__init__()
        self.register_parameter("w0", nn.Parameter(torch.zeros([])))
        self.register_parameter("w", nn.Parameter(torch.zeros(n_features)))
        self.register_parameter("V", nn.Parameter(torch.normal(0.0, 0.01, (n_features, k))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = (x * self.w).sum(dim=1) + self.w0  # (B,)
        for f in range(self.V.shape[1]):
            vx = x * self.V[:, f]  # (B, n): V_if x_i
            out = out + 0.5 * (vx.sum(dim=1) ** 2 - (vx * vx).sum(dim=1))
        return out
