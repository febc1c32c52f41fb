"""FlashAttention's forward pass: tiled attention with an online softmax."""

import torch


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    is_causal: bool = False,
    block_q: int = 64,
    block_k: int = 64,
) -> torch.Tensor:
    """Attention computed tile by tile with an online softmax, never holding the L x S scores.

        out = softmax(q @ k^T / sqrt(E), over the keys S) @ v          # (..., L, Ev)

    computed FlashAttention's way: for each block of block_q queries, walk the keys in
    blocks of block_k, and keep per query row a running max m, a running normaliser
    l = sum(exp(score - m)) and an accumulator acc = sum(exp(score - m) * v row). When a
    new tile raises m to m_new, multiply l and acc by exp(m - m_new) before adding the
    tile's own terms; after the last key block, out = acc / l.

    Args:
        q: (..., L, E) queries, a floating dtype (float16, bfloat16, float32, float64).
        k: (..., S, E) keys, with q's dtype, device and batch dims `...`.
        v: (..., S, Ev) values, with q's dtype, device and batch dims `...`.
        is_causal: query i may attend to keys 0..i only, counted from the top-left corner
            even when L != S, as torch.nn.functional.scaled_dot_product_attention counts.
        block_q: queries per tile (>= 1); need not divide L, and may exceed it.
        block_k: keys per tile (>= 1); need not divide S, and may exceed it.

    Returns:
        out: (..., L, Ev), with q's dtype and device. The scale is always 1 / sqrt(E).

    Conventions and edge cases:
        Forward only: no gradient is asked for. The batch dims `...` may be absent, one or
        many; q, k and v share them (no broadcasting between them is asked for). The
        inputs are left unchanged. The last query block and the last key block may be
        partial. Low-precision inputs may be accumulated in float32 (as FlashAttention
        does); the result is cast back to q's dtype.
        Scores can be large (|scores| ~ 1e4, of either sign): every exp must be taken of a
        score minus the running max, so nothing overflows or underflows to 0/0.
        Memory: per (batch, head), no tensor that the function creates may hold more
        elements than the largest of one score tile (block_q * block_k) and an input or
        the output (L or S, rounded up to a whole number of blocks, times max(E, Ev)).
        So never the L x S score matrix, nor a strip of block_q x S or L x block_k scores.
        Causal: a key block that lies wholly after the last query of a query block is
        never computed (no matmul), so causal attention does about half the work when
        L == S; only tiles that cross the diagonal need a mask.
        A query row that sees no key at all (S == 0) has an unspecified result.

    Raises:
        ValueError: before any computation, if block_q < 1 or block_k < 1 (the message
            names the parameter and its value), if q.shape[-1] != k.shape[-1] (q and k must
            share E) or if k.shape[-2] != v.shape[-2] (k and v must share S); the message
            names the two sizes that differ.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward (nor the
    torch.ops.aten / torch._C forms of scaled dot-product attention), and no softmax
    either: torch.softmax, torch.nn.functional.softmax, torch.Tensor.softmax,
    torch.special.softmax (nor torch._softmax / aten._softmax).
    """
    raise NotImplementedError
