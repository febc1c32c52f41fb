"""Wrong: returns the keys and values of the new tokens only, not the past followed by
them, so the next call has lost the past."""

import torch
from torch import nn


class CachedCausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.n_head = num_heads
        self.head_dim = embed_dim // num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, E = x.shape
        H, D = self.n_head, self.head_dim
        if past_key_value is not None:
            pk, pv = past_key_value
            if pk.dim() != 4 or pv.dim() != 4 or pk.shape != pv.shape:
                raise ValueError(f"bad past shapes {tuple(pk.shape)} and {tuple(pv.shape)}")
            if (pk.shape[0], pk.shape[1], pk.shape[3]) != (B, H, D):
                raise ValueError(f"past {tuple(pk.shape)} does not fit (B, H, D) = {(B, H, D)}")
        q, k, v = self.c_attn(x).split(E, dim=2)
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, H, D).transpose(1, 2)
        v = v.view(B, T, H, D).transpose(1, 2)
        new_kv = (k, v)
        if past_key_value is not None:
            k = torch.cat([past_key_value[0], k], dim=2)
            v = torch.cat([past_key_value[1], v], dim=2)
        S = k.shape[2]
        att = (q @ k.transpose(-2, -1)) / D**0.5
        mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
        att = att.masked_fill(~mask, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, E)
        return self.c_proj(y), new_kv
