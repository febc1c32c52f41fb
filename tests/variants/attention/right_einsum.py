"""Right: einsum for both products, every restriction folded into one additive bias, and
a softmax written out by hand (shifted by the row max so exp cannot overflow)."""

import torch


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    E, S, L = q.shape[-1], k.shape[-2], q.shape[-2]
    if k.shape[-1] != E:
        raise ValueError(f"E differs: q has {E} features, k has {k.shape[-1]}")
    if v.shape[-2] != S:
        raise ValueError(f"S differs: k has {S} rows, v has {v.shape[-2]}")
    if scale is None:
        scale = 1.0 / E**0.5

    bias = torch.zeros(L, S, dtype=q.dtype, device=q.device)
    if is_causal:
        rows = torch.arange(L, device=q.device)[:, None]
        cols = torch.arange(S, device=q.device)[None, :]
        bias = bias.masked_fill(cols > rows, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            bias = bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            bias = bias + attn_mask

    scores = torch.einsum("...le,...se->...ls", q, k) * scale + bias
    shifted = scores - scores.amax(dim=-1, keepdim=True)
    e = shifted.exp()
    weights = e / e.sum(dim=-1, keepdim=True)
    return torch.einsum("...ls,...sd->...ld", weights, v), weights
