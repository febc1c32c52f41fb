"""Rotary position embedding (RoPE), in the rotate-half layout of Llama and Hugging Face."""

import torch


def rope_cos_sin(
    head_dim: int, max_len: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The cos and sin tables of RoPE, one row per position, in the rotate-half layout.

        inv_freq[i] = base^(-2i / head_dim)                  for 0 <= i < head_dim / 2
        angle[pos, i] = pos * inv_freq[i]
        emb = cat(angle, angle, dim=-1)                      # each frequency twice
        cos = cos(emb), sin = sin(emb)

    Column i and column i + head_dim/2 hold the same frequency (the first half of the
    columns repeated, as Llama and Hugging Face build it), not columns 2i and 2i + 1 (the
    interleaved layout of GPT-J and Meta's complex-number code).

    Args:
        head_dim: the size of each head, a positive even integer.
        max_len: the number of positions (rows), at least 1.
        base: the base of the geometric progression of frequencies (10000 in the paper).

    Returns:
        (cos, sin): each (max_len, head_dim), float32, on the CPU. Row 0 of cos is all
        ones and row 0 of sin all zeros.

    Precision: the angles grow to about max_len radians. Computing them in float64 and
    rounding once is best; float32 arithmetic, as Llama uses, is accepted (the tests allow
    an error of 1e-6 + 2e-7 * max_len in the tables).

    Raises:
        ValueError: if head_dim is odd; the message names head_dim.

    Do not use: nothing is forbidden.
    """
    if head_dim % 2:
        raise ValueError(f"head_dim must be even to rotate pairs of features, got {head_dim}")
    # float64, rounded once at the end: in float32 an angle of 4096 radians is off by 2e-4
    two_i = torch.arange(0, head_dim, 2, dtype=torch.float64)  # (head_dim / 2,)
    inv_freq = base ** (-two_i / head_dim)  # (head_dim / 2,)
    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * inv_freq  # (max_len, D/2)
    emb = torch.cat([angles, angles], dim=-1)  # (max_len, head_dim), halves repeated
    return emb.cos().float(), emb.sin().float()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """Split the last dim into halves x1 = x[..., :D/2] and x2 = x[..., D/2:] and return
    cat(-x2, x1): the 90-degree turn of each pair (x[..., i], x[..., i + D/2]).

    Args:
        x: (..., D), any float dtype and device, D even.

    Returns:
        (..., D) with x's dtype and device: [-x[..., D/2:], x[..., :D/2]]. Applying it
        twice gives -x. The input is left unchanged.

    Raises:
        ValueError: if D is odd.

    Do not use: nothing is forbidden.
    """
    D = x.shape[-1]
    if D % 2:
        raise ValueError(f"rotate_half needs an even last dim, got {D}")
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]  # (..., D/2) each
    return torch.cat([-x2, x1], dim=-1)  # (..., D)


def apply_rope(
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rotate each pair (x[..., i], x[..., i + D/2]) of every query or key by the angle
    pos * inv_freq[i] of its position.

        out = x * cos[positions] + rotate_half(x) * sin[positions]

    that is, for the pair (a, b) = (x[..., t, i], x[..., t, i + D/2]) at position p:
        out[..., t, i]       = a cos(p θ_i) - b sin(p θ_i)
        out[..., t, i + D/2] = b cos(p θ_i) + a sin(p θ_i)
    the complex product (a + ib) · e^{i p θ_i}.

    Args:
        x: (B, H, T, D) queries or keys, any float dtype; any layout (a transposed view
            is fine).
        cos, sin: (max_len, D) tables from rope_cos_sin (float32, or any float dtype), on
            x's device.
        positions: None, meaning positions 0..T-1; or an int64 tensor (T,) on x's device
            with the position of each of the T rows, each in 0..max_len-1 (when decoding
            with a cache, arange(t0, t0 + T)). Positions need not be sorted or distinct.

    Returns:
        (B, H, T, D) with x's dtype and device. The tables are cast to x's dtype before
        the products, as Llama does. The input is left unchanged.

    Raises:
        ValueError: if D is odd, if the tables' last dim is not D (the message names
            both), or if positions is None and T > max_len (the message names both).

    Do not use: nothing is forbidden.
    """
    seq_len, D = x.shape[-2], x.shape[-1]
    if D % 2:
        raise ValueError(f"apply_rope needs an even head_dim, got {D}")
    if cos.shape[-1] != D or sin.shape[-1] != D:
        raise ValueError(f"the tables have {cos.shape[-1]} columns but x has head_dim {D}")
    if positions is None:
        if seq_len > cos.shape[0]:
            raise ValueError(f"{seq_len} positions asked of tables with max_len {cos.shape[0]}")
        positions = torch.arange(seq_len, device=x.device)
    cos_t = cos[positions].to(x.dtype)  # (T, D), broadcasts over B and H
    sin_t = sin[positions].to(x.dtype)  # (T, D)
    return x * cos_t + rotate_half(x) * sin_t  # (B, H, T, D)
