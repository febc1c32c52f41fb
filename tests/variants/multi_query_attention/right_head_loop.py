"""Right: a loop over the query heads, each reading its key/value head h // G by index,
with Llama's repeat_kv idea written as plain indexing; MultiQueryAttention is its own
module with the same four projections."""

import math

import torch
from torch import nn


def _attend_one_head(q, k, v, allowed, bias):
    """q, k, v: (B, T, D); allowed: bool broadcastable to (B, T, T); bias likewise or 0."""
    scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]) + bias
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _attention(module, x, attn_mask, is_causal, num_heads, num_kv_heads):
    B, T, E = x.shape
    D = E // num_heads
    q, k, v = module.q_proj(x), module.k_proj(x), module.v_proj(x)
    allowed = torch.ones(B, num_heads, T, T, dtype=torch.bool, device=x.device)
    if is_causal:
        allowed = allowed & torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
    bias = torch.zeros(B, num_heads, T, T, dtype=x.dtype, device=x.device)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        allowed = allowed & attn_mask
    elif attn_mask is not None:
        bias = bias + attn_mask
    heads = []
    for h in range(num_heads):
        g = h // (num_heads // num_kv_heads)
        heads.append(
            _attend_one_head(
                q[..., h * D : (h + 1) * D],
                k[..., g * D : (g + 1) * D],
                v[..., g * D : (g + 1) * D],
                allowed[:, h],
                bias[:, h],
            )
        )
    return module.o_proj(torch.cat(heads, dim=-1))


class GroupedQueryAttention(nn.Module):
    def __init__(
        self, embed_dim: int, num_heads: int, num_kv_heads: int, bias: bool = False
    ) -> None:
        super().__init__()
        if embed_dim % num_heads or num_heads % num_kv_heads:
            raise ValueError(
                f"need embed_dim % num_heads == 0 and num_heads % num_kv_heads == 0, got "
                f"embed_dim={embed_dim}, num_heads={num_heads}, num_kv_heads={num_kv_heads}"
            )
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        kv_dim = num_kv_heads * (embed_dim // num_heads)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.o_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        return _attention(self, x, attn_mask, is_causal, self.num_heads, self.num_kv_heads)


class MultiQueryAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} is not a multiple of num_heads={num_heads}")
        self.num_heads = num_heads
        head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, head_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, head_dim, bias=bias)
        self.o_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        return _attention(self, x, attn_mask, is_causal, self.num_heads, 1)
