"""Wrong: plain attention with a hand-written stable softmax: right values, but it builds
the whole L x S score matrix (and computes every score, masked or not, when causal)."""

import torch


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    is_causal: bool = False,
    block_q: int = 64,
    block_k: int = 64,
) -> torch.Tensor:
    if block_q < 1 or block_k < 1:
        name, value = ("block_q", block_q) if block_q < 1 else ("block_k", block_k)
        raise ValueError(f"{name} must be at least 1, got {value}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k differ in E: {q.shape[-1]} != {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v differ in S: {k.shape[-2]} != {v.shape[-2]}")
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    work = torch.promote_types(q.dtype, torch.float32)
    scores = q.to(work) @ k.to(work).transpose(-2, -1) * E**-0.5  # (..., L, S)
    if is_causal:
        future = torch.ones(L, S, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, -torch.inf)
    e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    weights = e / e.sum(dim=-1, keepdim=True)
    return (weights @ v.to(work)).to(q.dtype)
