"""Right: einsum with the heads kept as a separate axis (no transposes), every restriction
folded into one additive bias, and a softmax written out with the row max subtracted."""

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"{num_heads} heads cannot split {embed_dim} features evenly")
        self.heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        L, S = query.shape[1], key.shape[1]
        q = self.q_proj(query).unflatten(-1, (self.heads, -1))  # (B, L, H, D)
        k = self.k_proj(key).unflatten(-1, (self.heads, -1))  # (B, S, H, D)
        v = self.v_proj(value).unflatten(-1, (self.heads, -1))  # (B, S, H, D)

        bias = torch.zeros(L, S, dtype=q.dtype, device=q.device)
        if is_causal:
            rows = torch.arange(L, device=q.device)[:, None]
            cols = torch.arange(S, device=q.device)[None, :]
            bias = bias.masked_fill(cols > rows, float("-inf"))
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            bias = bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        elif attn_mask is not None:
            bias = bias + attn_mask

        scores = torch.einsum("blhd,bshd->bhls", q, k) / q.shape[-1] ** 0.5 + bias
        e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
        weights = e / e.sum(dim=-1, keepdim=True)  # (B, H, L, S)
        heads = torch.einsum("bhls,bshd->blhd", weights, v)  # (B, L, H, D)
        return self.out_proj(heads.flatten(-2))
