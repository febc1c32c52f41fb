"""Scaled dot-product attention, written out by hand."""

import torch


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query's average of the values, weighted by how well it matches each key.

        scores  = q @ k^T * scale (+ the float mask)        # (..., L, S)
        weights = softmax(scores over the keys S), 0 at forbidden keys
        out     = weights @ v                               # (..., L, Ev)

    Args:
        q: (..., L, E) queries, a floating dtype (float16, bfloat16, float32, float64).
        k: (..., S, E) keys, with q's dtype, device and batch dims `...`.
        v: (..., S, Ev) values, with q's dtype, device and batch dims `...`.
        attn_mask: None, or a tensor broadcastable to (..., L, S):
            bool: True where query i may attend to key j, False where it may not;
            floating (q's dtype): added to the scaled scores (0 keeps a key, -inf forbids
            it, any other value biases it).
        is_causal: query i may attend to keys 0..i only, counted from the top-left corner
            even when L != S, as torch.nn.functional.scaled_dot_product_attention counts.
            Given together with attn_mask, both restrictions apply.
        scale: multiplies q @ k^T; None means 1 / sqrt(E). A scale of 0.0 is a scale
            (every allowed key gets the same weight), not a request for the default.

    Returns:
        (out, weights): out (..., L, Ev) and weights (..., L, S), both with q's dtype and
        device. Each row of weights sums to 1 and is 0 at every forbidden key.

    Conventions and edge cases:
        The batch dims `...` may be absent, one or many; q, k and v share them (no
        broadcasting between q, k and v is asked for). The inputs are left unchanged.
        Scores can be large (|scores| ~ 1e4): the result must stay finite and exact, so
        never exponentiate a score without first subtracting its row's maximum.
        A row of scores in which every key is forbidden has an unspecified result.

    Raises:
        ValueError: before any computation, if q.shape[-1] != k.shape[-1] (q and k must
            share E) or if k.shape[-2] != v.shape[-2] (k and v must share S); the message
            names the two sizes that differ.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward (nor the
    torch.ops.aten / torch._C forms of scaled dot-product attention).
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share the feature size E: q has {q.shape[-1]}, k has {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must hold the same number of keys S: k has {k.shape[-2]}, v has {v.shape[-2]}"
        )
    L, S = q.shape[-2], k.shape[-2]
    if scale is None:  # `scale or ...` would turn a scale of 0.0 into the default
        scale = q.shape[-1] ** -0.5  # 1/sqrt(E): keeps the scores' variance near 1
    scores = (q @ k.transpose(-2, -1)) * scale  # (..., L, S)

    if is_causal:
        # top-left aligned: query i sees keys 0..i whatever L and S are
        future = torch.ones(L, S, dtype=torch.bool, device=q.device).triu(1)  # (L, S)
        scores = scores.masked_fill(future, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))  # True means "may attend"
        else:
            scores = scores + attn_mask  # a bias; -inf entries forbid

    # torch.softmax subtracts each row's max before exp, so large scores cannot overflow,
    # and exp(-inf) = 0 gives forbidden keys exactly zero weight
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    out = weights @ v  # (..., L, Ev)
    return out, weights
