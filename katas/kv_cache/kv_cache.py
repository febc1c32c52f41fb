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
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """(out (B, T, E), (k, v) each (B, H, T_past + T, D)); see the class docstring."""
        raise NotImplementedError
