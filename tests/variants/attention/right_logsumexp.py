"""Right: one boolean "allowed" grid, then weights = exp(scores - logsumexp(scores))."""

import torch


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    (*_, L, e_q), (*_, S, e_k), s_v = q.shape, k.shape, v.shape[-2]
    if e_q != e_k:
        raise ValueError(f"q and k need the same last size, got {e_q} and {e_k}")
    if s_v != S:
        raise ValueError(f"k and v need the same number of rows, got {S} and {s_v}")
    scores = torch.matmul(q, k.mT).mul(e_q**-0.5 if scale is None else scale)

    allowed = torch.ones(L, S, dtype=torch.bool, device=q.device)
    if is_causal:
        allowed = torch.tril(allowed)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        allowed = allowed & attn_mask
    elif attn_mask is not None:
        scores = scores + attn_mask
    scores = torch.where(allowed, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
    return torch.matmul(weights, v), weights
