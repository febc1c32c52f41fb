"""Right: einsum with named heads, and the future masked with the dtype's most negative
finite number instead of -inf (its exp underflows to exactly 0 all the same)."""

import torch
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"num_heads={num_heads} does not divide embed_dim={embed_dim}")
        self.n_head = num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.size(1)
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.n_head, -1)) for t in (q, k, v))  # (B, T, H, D)
        scores = torch.einsum("bthd,bshd->bhts", q, k) / q.size(-1) ** 0.5
        allowed = torch.tril(torch.ones(T, T, dtype=torch.bool, device=x.device))
        scores = torch.where(allowed, scores, torch.finfo(scores.dtype).min)
        y = torch.einsum("bhts,bshd->bthd", scores.softmax(-1), v)  # (B, T, H, D)
        return self.c_proj(y.flatten(-2))
