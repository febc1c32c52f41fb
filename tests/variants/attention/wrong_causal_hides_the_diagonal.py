"""Wrong: the causal mask also hides key i from query i (triu(0) instead of triu(1))."""

import torch


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k differ in E: {q.shape[-1]} != {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v differ in S: {k.shape[-2]} != {v.shape[-2]}")
    L, S = q.shape[-2], k.shape[-2]
    if scale is None:
        scale = q.shape[-1] ** -0.5
    scores = q @ k.transpose(-2, -1) * scale
    if is_causal:
        future = torch.ones(L, S, dtype=torch.bool, device=q.device).triu(0)
        scores = scores.masked_fill(future, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
