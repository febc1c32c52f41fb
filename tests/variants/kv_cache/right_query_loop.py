"""Right: q, k and v from slices of c_attn's weight, and one new query at a time, each
attending to the keys up to its own absolute position T_past + i."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class CachedCausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"num_heads {num_heads} does not divide embed_dim {embed_dim}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _project(self, x: torch.Tensor, part: int) -> torch.Tensor:
        E, H = self.embed_dim, self.num_heads
        rows = slice(part * E, (part + 1) * E)
        bias = None if self.c_attn.bias is None else self.c_attn.bias[rows]
        y = F.linear(x, self.c_attn.weight[rows], bias)  # (B, T, E)
        return y.reshape(*x.shape[:2], H, E // H).permute(0, 2, 1, 3)  # (B, H, T, D)

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, E = x.shape
        H, D = self.num_heads, E // self.num_heads
        q, k, v = (self._project(x, i) for i in range(3))
        if past_key_value is not None:
            past_k, past_v = past_key_value
            if past_k.dim() != 4 or past_k.shape != past_v.shape:
                raise ValueError(
                    f"past_k {tuple(past_k.shape)} and past_v {tuple(past_v.shape)} must be "
                    f"two tensors of one 4-D shape"
                )
            if past_k.shape[0] != B:
                raise ValueError(f"past batch {past_k.shape[0]} != x batch {B}")
            if past_k.shape[1] != H:
                raise ValueError(f"past heads {past_k.shape[1]} != num_heads {H}")
            if past_k.shape[3] != D:
                raise ValueError(f"past head size {past_k.shape[3]} != head size {D}")
            k, v = torch.cat((past_k, k), dim=-2), torch.cat((past_v, v), dim=-2)
        P = k.shape[2] - T
        rows = []
        for i in range(T):
            visible = P + i + 1
            s = q[:, :, i : i + 1] @ k[:, :, :visible].transpose(-1, -2) / math.sqrt(D)
            rows.append(torch.softmax(s, dim=-1) @ v[:, :, :visible])  # (B, H, 1, D)
        y = torch.cat(rows, dim=2).permute(0, 2, 1, 3).reshape(B, T, E)
        return self.c_proj(y), (k, v)
