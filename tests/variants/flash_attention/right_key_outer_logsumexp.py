"""Right: FlashAttention-1's loop order (key blocks outside, query blocks inside), carrying
a normalised output and its log-sum-exp per query instead of an unnormalised sum and a max.

When a tile with log-sum-exp t meets the running log-sum-exp c of a row,
    c' = logaddexp(c, t),   out' = out * exp(c - c') + exp(scores - c') @ v_tile,
and exp(c - c') <= 1, exp(scores - c') <= 1: nothing can overflow."""

import torch


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    is_causal: bool = False,
    block_q: int = 64,
    block_k: int = 64,
) -> torch.Tensor:
    for name, size in (("block_q", block_q), ("block_k", block_k)):
        if size < 1:
            raise ValueError(f"{name} = {size}: a block holds at least one row")
    (*batch, L, E), (S, e_k), (s_v, Ev) = q.shape, k.shape[-2:], v.shape[-2:]
    if e_k != E:
        raise ValueError(f"q has E = {E} but k has E = {e_k}")
    if s_v != S:
        raise ValueError(f"k has S = {S} rows but v has {s_v}")

    dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    lse = q.new_full((*batch, L, 1), -torch.inf, dtype=dtype)  # (..., L, 1)
    out = q.new_zeros((*batch, L, Ev), dtype=dtype)  # (..., L, Ev), always normalised
    scale = 1 / E**0.5

    for j0 in range(0, S, block_k):
        j1 = min(S, j0 + block_k)
        k_tile, v_tile = k[..., j0:j1, :].to(dtype), v[..., j0:j1, :].to(dtype)
        # causal: queries before j0 see none of these keys; start at the block holding j0
        first = j0 // block_q * block_q if is_causal else 0
        for i0 in range(first, L, block_q):
            i1 = min(L, i0 + block_q)
            scores = torch.einsum("...qe,...ke->...qk", q[..., i0:i1, :].to(dtype), k_tile)
            scores = scores * scale
            if is_causal and j1 - 1 > i0:
                hidden = torch.arange(j0, j1, device=q.device) > torch.arange(
                    i0, i1, device=q.device
                ).unsqueeze(-1)
                scores = torch.where(hidden, -torch.inf, scores)
            tile_lse = torch.logsumexp(scores, dim=-1, keepdim=True)
            new_lse = torch.logaddexp(lse[..., i0:i1, :], tile_lse)
            # a row hidden from the whole tile keeps its state: scores - new_lse = -inf there
            out[..., i0:i1, :] = out[..., i0:i1, :] * torch.exp(
                lse[..., i0:i1, :] - new_lse
            ) + torch.einsum("...qk,...kv->...qv", torch.exp(scores - new_lse), v_tile)
            lse[..., i0:i1, :] = new_lse
    return out.to(q.dtype)
