"""Wrong: the softmax sees every key, and the boolean and causal masks only zero the
weights afterwards, so the rows no longer sum to 1."""

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
    allowed = torch.ones(L, S, dtype=torch.bool, device=q.device)
    if is_causal:
        allowed = allowed.tril()
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            allowed = allowed & attn_mask
        else:
            scores = scores + attn_mask
    weights = torch.softmax(scores, dim=-1).masked_fill(~allowed, 0.0)
    return weights @ v, weights
