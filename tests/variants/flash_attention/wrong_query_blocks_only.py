"""Wrong: tiles the queries only: each block of queries is scored against every key it
may see at once, a block_q x S strip of scores, so block_k is ignored and memory grows
with S."""

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
    blocks = []
    for i0 in range(0, L, block_q):
        i1 = min(i0 + block_q, L)
        end = min(S, i1) if is_causal else S
        scores = q[..., i0:i1, :].to(work) @ k[..., :end, :].to(work).transpose(-2, -1)
        scores = scores * E**-0.5  # (..., bq, end)
        if is_causal:
            rows = torch.arange(i0, i1, device=q.device)[:, None]
            scores = scores.masked_fill(torch.arange(end, device=q.device) > rows, -torch.inf)
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        blocks.append((e / e.sum(dim=-1, keepdim=True)) @ v[..., :end, :].to(work))
    return torch.cat(blocks, dim=-2).to(q.dtype)
