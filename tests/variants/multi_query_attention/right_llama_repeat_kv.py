"""Right, the Hugging Face Llama way: repeat_kv as expand + reshape (a broadcast view, then
one copy), every restriction turned into an additive mask that uses the dtype's most
negative finite number instead of -inf, and the softmax computed in at least float32
(float16 and bfloat16 scores are upcast for it), then cast back."""

import torch
from torch import nn


def repeat_kv(hidden: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, KV, T, D) -> (B, KV * n_rep, T, D), each kv head repeated n_rep times in place."""
    B, KV, T, D = hidden.shape
    if n_rep == 1:
        return hidden
    return hidden[:, :, None].expand(B, KV, n_rep, T, D).reshape(B, KV * n_rep, T, D)


class GroupedQueryAttention(nn.Module):
    def __init__(
        self, embed_dim: int, num_heads: int, num_kv_heads: int, bias: bool = False
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"{embed_dim=} must be divisible by {num_heads=}")
        if num_heads % num_kv_heads != 0:
            raise ValueError(f"{num_heads=} must be divisible by {num_kv_heads=}")
        self.num_heads = num_heads
        self.num_key_value_heads = num_kv_heads
        self.num_key_value_groups = num_heads // num_kv_heads
        self.head_dim = embed_dim // num_heads
        self.scaling = self.head_dim**-0.5
        self.q_proj = nn.Linear(embed_dim, num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, num_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, num_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(num_heads * self.head_dim, embed_dim, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        B, T, _ = x.shape
        shape = (B, T, -1, self.head_dim)
        q = self.q_proj(x).view(shape).transpose(1, 2)
        k = repeat_kv(self.k_proj(x).view(shape).transpose(1, 2), self.num_key_value_groups)
        v = repeat_kv(self.v_proj(x).view(shape).transpose(1, 2), self.num_key_value_groups)

        lowest = torch.finfo(x.dtype).min
        additive = torch.zeros(T, T, dtype=x.dtype, device=x.device)
        if is_causal:
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            additive = additive.masked_fill(~causal, lowest)
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            additive = additive.masked_fill(~attn_mask, lowest)
        elif attn_mask is not None:
            additive = additive + attn_mask

        scores = torch.matmul(q, k.transpose(2, 3)) * self.scaling + additive
        upcast = torch.promote_types(q.dtype, torch.float32)  # float64 stays float64
        weights = nn.functional.softmax(scores, dim=-1, dtype=upcast).to(q.dtype)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(B, T, -1)
        return self.o_proj(out)


class MultiQueryAttention(GroupedQueryAttention):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__(embed_dim, num_heads, 1, bias=bias)
