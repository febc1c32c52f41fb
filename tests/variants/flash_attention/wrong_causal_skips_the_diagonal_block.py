"""Wrong: causal attention visits only the key blocks that end before the query block
starts, so the tile on the diagonal (key i for query i) is never computed."""

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
    *batch, L, E = q.shape
    S, Ev = k.shape[-2], v.shape[-1]
    work = torch.promote_types(q.dtype, torch.float32)
    out = torch.empty((*batch, L, Ev), dtype=q.dtype, device=q.device)
    for i0 in range(0, L, block_q):
        i1 = min(i0 + block_q, L)
        qi = q[..., i0:i1, :].to(work) * E**-0.5
        m = torch.full((*batch, i1 - i0, 1), -torch.inf, dtype=work, device=q.device)
        l = torch.zeros_like(m)
        acc = torch.zeros((*batch, i1 - i0, Ev), dtype=work, device=q.device)
        for jb in range(i0 // block_k if is_causal else -(-S // block_k)):
            j0, j1 = jb * block_k, min(jb * block_k + block_k, S)
            s = qi @ k[..., j0:j1, :].to(work).transpose(-2, -1)
            if is_causal and j1 - 1 > i0:
                rows = torch.arange(i0, i1, device=q.device)[:, None]
                cols = torch.arange(j0, j1, device=q.device)
                s = s.masked_fill(cols > rows, -torch.inf)
            m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))
            alpha = torch.exp(m - m_new)
            p = torch.exp(s - m_new)
            l = l * alpha + p.sum(dim=-1, keepdim=True)
            acc = acc * alpha + p @ v[..., j0:j1, :].to(work)
            m = m_new
        out[..., i0:i1, :] = (acc / l).to(q.dtype)
    return out
