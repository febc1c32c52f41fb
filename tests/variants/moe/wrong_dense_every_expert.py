"""Wrong (for this kata): right values, but every expert runs on every token and the
unchosen outputs are masked by a zero weight afterwards: num_experts / top_k times the work."""

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
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k={top_k} must lie in [1, {num_experts}]")
        self.top_k = top_k
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(dim, hidden_dim) for _ in range(num_experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, x.shape[-1])
        logits = self.gate(tokens)
        top, chosen = logits.topk(self.top_k, dim=-1)
        dense = torch.zeros_like(logits).scatter(1, chosen, torch.softmax(top, dim=-1))  # (N, E)
        outs = torch.stack([expert(tokens) for expert in self.experts], dim=1)  # (N, E, dim)
        return (dense[:, :, None] * outs).sum(dim=1).reshape(x.shape)
