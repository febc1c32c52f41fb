"""Right: one head at a time from column slices of c_attn's output, with the softmax written
out (max subtracted, exp multiplied by a lower-triangular mask of ones, then normalised)."""

import math

import torch
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"cannot split {embed_dim} features into {num_heads} heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        E, T = self.embed_dim, x.shape[1]
        D = E // self.num_heads
        qkv = self.c_attn(x)  # (B, T, 3E)
        keep = torch.ones(T, T, dtype=x.dtype, device=x.device).tril()
        heads = []
        for h in range(self.num_heads):
            cols = slice(h * D, (h + 1) * D)
            q = qkv[..., :E][..., cols]
            k = qkv[..., E : 2 * E][..., cols]
            v = qkv[..., 2 * E :][..., cols]
            scores = q @ k.transpose(1, 2) / math.sqrt(D)  # (B, T, T)
            # the row max over allowed keys only, so no masked score can overflow exp
            row_max = scores.masked_fill(keep == 0, float("-inf")).amax(-1, keepdim=True)
            e = (scores - row_max).clamp(max=0).exp() * keep
            heads.append((e / e.sum(-1, keepdim=True)) @ v)  # (B, T, D)
        return self.c_proj(torch.cat(heads, dim=-1))
