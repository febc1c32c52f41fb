"""Right: GELU written with erf by hand, dropout as a hand-made module (a Bernoulli mask,
survivors scaled by 1 / (1 - p)), and SwiGLU's two input projections done as one fused
matmul over [w1; w3] that still keeps w1 and w3 as the parameters."""

import math

import torch
from torch import nn


class ErfGELU(nn.Module):
    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return 0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0)))


class MaskDropout(nn.Module):
    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return h
        keep = torch.rand(h.shape, device=h.device) >= self.p
        return h * keep.to(h.dtype) / (1.0 - self.p)


class Mlp(nn.Module):
    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        if hidden_features is None:
            hidden_features = in_features
        if out_features is None:
            out_features = in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = ErfGELU()
        self.drop = MaskDropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc1(x)
        x = self.act(x)
        x = self.drop(x)
        x = self.fc2(x)
        return self.drop(x)


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.w1.weight, self.w3.weight])  # (2 * hidden, dim)
        gate, value = (x @ fused.T).chunk(2, dim=-1)  # each (..., hidden)
        return self.w2(gate * torch.sigmoid(gate) * value)
