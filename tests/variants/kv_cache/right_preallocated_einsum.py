"""Right: one fresh (B, H, S, D) tensor per call, filled with the past and then the new
keys and values; einsum for both products; the causal rule as a comparison of absolute
positions; a softmax written out by hand, shifted by the row max so exp cannot overflow."""

import torch
from torch import nn


class CachedCausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"{embed_dim=} is not a multiple of {num_heads=}")
        self.h = num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, E = x.shape
        H = self.h
        D = E // H
        if past_key_value is None:
            past_key_value = (x.new_empty(B, H, 0, D), x.new_empty(B, H, 0, D))
        past_k, past_v = past_key_value
        for name, t in (("past_k", past_k), ("past_v", past_v)):
            if t.ndim != 4:
                raise ValueError(f"{name} has {t.ndim} dims, not 4")
            sizes = (("B", t.shape[0], B), ("H", t.shape[1], H), ("D", t.shape[3], D))
            for what, got, want in sizes:
                if got != want:
                    raise ValueError(f"{name}: {what} is {got}, the layer needs {want}")
        if past_k.shape[2] != past_v.shape[2]:
            raise ValueError(f"past_k holds {past_k.shape[2]} positions, past_v {past_v.shape[2]}")
        P = past_k.shape[2]
        S = P + T

        q, k_new, v_new = self.c_attn(x).unflatten(-1, (3, H, D)).permute(2, 0, 3, 1, 4)
        k = x.new_empty(B, H, S, D)
        v = x.new_empty(B, H, S, D)
        k[:, :, :P], k[:, :, P:] = past_k, k_new
        v[:, :, :P], v[:, :, P:] = past_v, v_new

        scores = torch.einsum("bhtd,bhsd->bhts", q, k) * D**-0.5
        query_pos = torch.arange(P, S, device=x.device)[:, None]
        key_pos = torch.arange(S, device=x.device)[None, :]
        scores = scores.masked_fill(key_pos > query_pos, float("-inf"))
        e = (scores - scores.amax(dim=-1, keepdim=True)).exp()
        weights = e / e.sum(dim=-1, keepdim=True)
        y = torch.einsum("bhts,bhsd->bthd", weights, v).reshape(B, T, E)
        return self.c_proj(y), (k, v)
