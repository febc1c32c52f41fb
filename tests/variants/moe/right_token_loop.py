"""Right: a plain loop over the tokens, each sent to its top_k experts one row at a time
(slow, but the routing reads exactly as the formula)."""

import torch
import torch.nn.functional as F
from torch import nn


class Expert(nn.Module):
    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class MoE(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, num_experts: int, top_k: int) -> None:
        super().__init__()
        if not 0 < top_k <= num_experts:
            raise ValueError(f"top_k={top_k} is not in [1, num_experts={num_experts}]")
        self.top_k = top_k
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(dim, hidden_dim) for _ in range(num_experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, dim = x.shape
        rows = []
        for token in x.reshape(B * T, dim):
            logits = self.gate(token)  # (E,)
            top = sorted(range(len(self.experts)), key=lambda e: -logits[e].item())[: self.top_k]
            weights = torch.softmax(logits[top], dim=0)
            y = sum(w * self.experts[e](token[None])[0] for w, e in zip(weights, top, strict=True))
            rows.append(y)
        return torch.stack(rows).reshape(B, T, dim)
