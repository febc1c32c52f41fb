"""Causal self-attention with a key/value cache, for decoding a few tokens at a time."""

import torch
from torch import nn


class CachedCausalSelfAttention(nn.Module):
    """GPT-2's causal self-attention, which returns the keys and values it computed and
    accepts those of the earlier positions, so that decoding never recomputes them.

        q, k, v = c_attn(x).split(E, dim=-1)           # each (B, T, E)
        q, k, v -> (B, H, T, D): head h takes features h*D .. (h+1)*D - 1
        k = cat(past_k, k), v = cat(past_v, v)         # (B, H, S, D), S = T_past + T
        scores = q @ k^T / sqrt(D)                     # (B, H, T, S)
        new token i (at position T_past + i) may attend to keys 0 .. T_past + i only
        out = c_proj(softmax(scores) @ v, heads merged back to E)    # (B, T, E)

    Args:
        embed_dim: E, the width of x and of the output.
        num_heads: H; each head has D = E // H features.
        bias: whether c_attn and c_proj have biases.

    Parameters (GPT-2's names):
        c_attn: nn.Linear(E, 3 * E, bias=bias); its output splits into q, k, v, in that
            order. c_proj: nn.Linear(E, E, bias=bias), applied after the heads are merged.
        No other parameters (a buffer, such as a mask, is fine). No dropout.

    forward(x, past_key_value=None) -> (out, (k, v)):
        x: (B, T, E), T >= 1 new tokens at positions T_past .. T_past + T - 1, with the
            layer's dtype (float16, bfloat16, float32, float64) and device.
        past_key_value: None (no past, T_past = 0), or (past_k, past_v), each
            (B, H, T_past, D) with x's dtype and device, as an earlier call returned them;
            T_past may be 0.
        out: (B, T, E), x's dtype and device.
        (k, v): each (B, H, T_past + T, D), x's dtype and device: the past keys (values)
            followed, along dim 2, by those of the T new tokens. Passing them back as
            past_key_value continues the sequence.

    Conventions and edge cases:
        A sequence decoded token by token, in chunks of any sizes, or in one call without a
        cache gives the same outputs and the same final cache (up to float rounding).
        The cache holds the keys and values themselves: not scaled, not transposed.
        Gradients flow through the cache (it is not detached): a loss on a later step
        reaches the earlier tokens and the parameters through past_k and past_v.
        x, past_k and past_v are never modified in place, and a returned cache never
        changes afterwards, so one cache can be continued in several ways.

    Raises:
        ValueError: in __init__, if embed_dim is not divisible by num_heads; the message
            names both.
        ValueError: in forward, before any computation, if past_k or past_v is not 4-D, if
            their shapes differ, or if their batch size, head count or head size differs
            from x's B, the layer's H or its D; the message names the two sizes that differ.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward (nor the
    torch.ops.aten / torch._C forms of scaled dot-product attention).
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        """Create c_attn and c_proj (see the class docstring)."""
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim must be divisible by num_heads: got embed_dim {embed_dim} "
                f"and num_heads {num_heads}"
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)  # q, k, v at once
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """(out (B, T, E), (k, v) each (B, H, T_past + T, D)); see the class docstring."""
        B, T, E = x.shape
        H, D = self.num_heads, self.head_dim
        if past_key_value is not None:
            self._check_past(past_key_value, B)

        q, k, v = self.c_attn(x).split(E, dim=-1)  # each (B, T, E)
        # split the heads: head h takes features h*D .. (h+1)*D - 1
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if past_key_value is not None:
            past_k, past_v = past_key_value
            # torch.cat builds new tensors: the caller's cache is left as it was
            k = torch.cat([past_k, k], dim=2)  # (B, H, S, D), S = T_past + T
            v = torch.cat([past_v, v], dim=2)  # (B, H, S, D)
        S = k.shape[2]

        scores = (q @ k.transpose(-2, -1)) * D**-0.5  # (B, H, T, S)
        # the T new queries are the LAST T of the S positions, so the causal mask is aligned
        # bottom-right: query i (position S - T + i) sees keys 0 .. S - T + i
        future = torch.ones(T, S, dtype=torch.bool, device=x.device).triu(S - T + 1)  # (T, S)
        scores = scores.masked_fill(future, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, H, T, S); stable: shifts by the row max
        y = (weights @ v).transpose(1, 2).reshape(B, T, E)  # (B, T, E), heads merged
        return self.c_proj(y), (k, v)

    def _check_past(self, past_key_value: tuple[torch.Tensor, torch.Tensor], batch: int) -> None:
        past_k, past_v = past_key_value
        if past_k.dim() != 4 or past_v.dim() != 4:
            raise ValueError(
                f"past_k and past_v must be 4-D (B, H, T_past, D): got {past_k.dim()}-D "
                f"and {past_v.dim()}-D"
            )
        if past_k.shape != past_v.shape:
            raise ValueError(
                f"past_k and past_v must have one shape: got {tuple(past_k.shape)} "
                f"and {tuple(past_v.shape)}"
            )
        for what, got, want in (
            ("batch size", past_k.shape[0], batch),
            ("head count", past_k.shape[1], self.num_heads),
            ("head size", past_k.shape[3], self.head_dim),
        ):
            if got != want:
                raise ValueError(f"the past cache's {what} is {got}, expected {want}")
