"""Right: every linear layer as an einsum over the module's own weights, the exact GELU
through F.gelu(approximate="none"), and F.dropout driven by self.training."""

import torch
import torch.nn.functional as F
from torch import nn


class Mlp(nn.Module):
    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = in_features if hidden_features is None else hidden_features
        out = in_features if out_features is None else out_features
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = nn.GELU(approximate="none")
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.drop.p
        h = torch.einsum("...i,hi->...h", x, self.fc1.weight) + self.fc1.bias
        h = F.dropout(F.gelu(h, approximate="none"), p, self.training)
        y = torch.einsum("...h,oh->...o", h, self.fc2.weight) + self.fc2.bias
        return F.dropout(y, p, self.training)


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.einsum("...d,hd->...h", x, self.w1.weight)
        b = torch.einsum("...d,hd->...h", x, self.w3.weight)
        return torch.einsum("...h,dh->...d", F.silu(a) * b, self.w2.weight)
