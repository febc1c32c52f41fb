"""Right: the query heads are viewed as (num_kv_heads, G) groups and einsum contracts each
group with its own key/value head, so the repeated keys and values are never
materialised; every restriction is folded into one additive bias, and the softmax is
written out (shifted by the row max so exp cannot overflow)."""

import torch
from torch import nn


class GroupedQueryAttention(nn.Module):
    def __init__(
        self, embed_dim: int, num_heads: int, num_kv_heads: int, bias: bool = False
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} is not a multiple of num_heads={num_heads}")
        if num_heads % num_kv_heads != 0:
            raise ValueError(
                f"num_heads={num_heads} is not a multiple of num_kv_heads={num_kv_heads}"
            )
        self.groups = num_kv_heads
        self.group_size = num_heads // num_kv_heads
        self.head_dim = embed_dim // num_heads
        kv_dim = num_kv_heads * self.head_dim
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
        B, T, E = x.shape
        K, G, D = self.groups, self.group_size, self.head_dim
        # head h = k * G + g: head h belongs to group k = h // G
        q = self.q_proj(x).view(B, T, K, G, D)
        k = self.k_proj(x).view(B, T, K, D)
        v = self.v_proj(x).view(B, T, K, D)
        scores = torch.einsum("btkgd,bskd->bkgts", q, k) * D**-0.5  # (B, K, G, T, T)

        bias = torch.zeros(T, T, dtype=x.dtype, device=x.device)
        if is_causal:
            i = torch.arange(T, device=x.device)
            bias = bias.masked_fill(i[None, :] > i[:, None], float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                extra = torch.zeros(attn_mask.shape, dtype=x.dtype, device=x.device)
                extra = extra.masked_fill(attn_mask.logical_not(), float("-inf"))
            else:
                extra = attn_mask
            bias = bias + extra
        bias = bias.expand(B, K * G, T, T).reshape(B, K, G, T, T)
        scores = scores + bias

        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        weights = e / e.sum(dim=-1, keepdim=True)
        out = torch.einsum("bkgts,bskd->btkgd", weights, v)  # (B, T, K, G, D)
        return self.o_proj(out.reshape(B, T, E))


class MultiQueryAttention(GroupedQueryAttention):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__(embed_dim, num_heads, num_kv_heads=1, bias=bias)
