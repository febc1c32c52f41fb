"""Right: one head at a time, each with its own slice of the projection weights, the way
the paper draws it; the heads' outputs concatenated in order before out_proj."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    @staticmethod
    def _head(layer: nn.Linear, x: torch.Tensor, rows: slice) -> torch.Tensor:
        b = None if layer.bias is None else layer.bias[rows]
        return F.linear(x, layer.weight[rows], b)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        B, L, E = query.shape
        S = key.shape[1]
        H = self.num_heads
        D = E // H
        allowed = torch.ones(B, H, L, S, dtype=torch.bool, device=query.device)
        if is_causal:
            allowed = allowed & torch.ones(L, S, dtype=torch.bool, device=query.device).tril()
        added = None
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            allowed = allowed & attn_mask
        elif attn_mask is not None:
            added = attn_mask.expand(B, H, L, S)

        outs = []
        for h in range(H):
            rows = slice(h * D, (h + 1) * D)
            q = self._head(self.q_proj, query, rows)  # (B, L, D)
            k = self._head(self.k_proj, key, rows)  # (B, S, D)
            v = self._head(self.v_proj, value, rows)  # (B, S, D)
            scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(D)  # (B, L, S)
            if added is not None:
                scores = scores + added[:, h]
            scores = scores.masked_fill(~allowed[:, h], float("-inf"))
            outs.append(torch.bmm(torch.softmax(scores, dim=-1), v))  # (B, L, D)
        return self.out_proj(torch.cat(outs, dim=-1))
