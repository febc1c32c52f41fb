"""Right: one query row at a time, the way the formula reads on a whiteboard."""

import math

import torch


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    if q.size(-1) != k.size(-1):
        raise ValueError(f"q has E={q.size(-1)} but k has E={k.size(-1)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"k has S={k.size(-2)} but v has S={v.size(-2)}")
    L, S = q.size(-2), k.size(-2)
    if scale is None:
        scale = 1 / math.sqrt(q.size(-1))
    scores_shape = (*q.shape[:-2], L, S)
    mask = None if attn_mask is None else attn_mask.expand(scores_shape)

    outs, rows = [], []
    for i in range(L):
        s = (k @ q[..., i, :].unsqueeze(-1)).squeeze(-1) * scale  # (..., S)
        if mask is not None and mask.dtype == torch.bool:
            s = torch.where(mask[..., i, :], s, float("-inf"))
        elif mask is not None:
            s = s + mask[..., i, :]
        if is_causal and i + 1 < S:
            s = torch.cat([s[..., : i + 1], torch.full_like(s[..., i + 1 :], float("-inf"))], -1)
        w = torch.softmax(s, dim=-1)  # (..., S)
        rows.append(w)
        outs.append((w.unsqueeze(-2) @ v).squeeze(-2))  # (..., Ev)
    return torch.stack(outs, dim=-2), torch.stack(rows, dim=-2)
