"""Right: while loops over tile indices, the causal mask cut from a lower triangle with a
diagonal offset, and the whole computation in the input's own dtype (no float32
accumulator, as a first CPU draft would write it)."""

import math

import torch


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    is_causal: bool = False,
    block_q: int = 64,
    block_k: int = 64,
) -> torch.Tensor:
    if block_q < 1:
        raise ValueError(f"block_q must be positive, got {block_q}")
    if block_k < 1:
        raise ValueError(f"block_k must be positive, got {block_k}")
    if q.size(-1) != k.size(-1) or k.size(-2) != v.size(-2):
        raise ValueError(
            f"shapes do not fit: E {q.size(-1)} vs {k.size(-1)}, S {k.size(-2)} vs {v.size(-2)}"
        )
    L, S = q.size(-2), k.size(-2)
    scale = 1.0 / math.sqrt(q.size(-1))
    rows_out = []
    i = 0
    while i < L:
        qb = q[..., i : i + block_q, :]
        n = qb.size(-2)
        m = l = acc = None
        j = 0
        while j < S and (not is_causal or j <= i + n - 1):
            kb, vb = k[..., j : j + block_k, :], v[..., j : j + block_k, :]
            s = torch.matmul(qb, kb.transpose(-1, -2)) * scale
            if is_causal:
                # key j + c is visible to query i + r when c <= r + (i - j)
                seen = torch.ones(n, kb.size(-2), dtype=torch.bool, device=q.device)
                s = s.masked_fill(~seen.tril(diagonal=i - j), float("-inf"))
            tile_max = s.max(dim=-1, keepdim=True).values
            if m is None:
                m = tile_max  # the first tile holds key 0, visible to every query
                p = (s - m).exp()
                l, acc = p.sum(-1, keepdim=True), torch.matmul(p, vb)
            else:
                m_new = torch.maximum(m, tile_max)
                shrink, p = (m - m_new).exp(), (s - m_new).exp()
                l = l * shrink + p.sum(-1, keepdim=True)
                acc = acc * shrink + torch.matmul(p, vb)
                m = m_new
            j += block_k
        rows_out.append(acc / l)
        i += block_q
    return torch.cat(rows_out, dim=-2)
