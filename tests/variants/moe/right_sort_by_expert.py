"""Right: every (token, slot) pair sorted by its expert, one contiguous chunk per expert
(split by the counts from bincount), results scattered back with index_add_; the weights
are the softmax over all experts renormalised over the chosen ones (the same numbers)."""

import torch
from torch import nn


class Expert(nn.Module):
    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.w1(x)
        return self.w2(a * torch.sigmoid(a) * self.w3(x))


class MoE(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, num_experts: int, top_k: int) -> None:
        super().__init__()
        if top_k < 1 or top_k > num_experts:
            raise ValueError(f"need 1 <= top_k <= num_experts={num_experts}, got top_k={top_k}")
        self.k = top_k
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim, hidden_dim) for _ in range(num_experts)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dim = x.shape[-1]
        flat = x.reshape(-1, dim)
        probs = self.gate(flat).softmax(dim=-1)
        p, idx = probs.topk(self.k, dim=-1)
        p = p / p.sum(dim=-1, keepdim=True)

        expert_of = idx.flatten()  # (N*k,)
        token_of = torch.arange(flat.shape[0], device=x.device).repeat_interleave(self.k)
        order = expert_of.argsort(stable=True)
        counts = torch.bincount(expert_of, minlength=len(self.experts)).tolist()
        tokens_sorted = token_of[order]
        weight_sorted = p.flatten()[order]

        out = torch.zeros_like(flat)
        for expert, tok, wt in zip(
            self.experts,
            tokens_sorted.split(counts),
            weight_sorted.split(counts),
            strict=True,
        ):
            out.index_add_(0, tok, expert(flat.index_select(0, tok)) * wt[:, None])
        return out.view(x.shape)
