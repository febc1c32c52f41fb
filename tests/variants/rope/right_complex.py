"""Right: Meta's complex-number RoPE (torch.polar tables, torch.view_as_complex), with the
pair (x[..., i], x[..., i + D/2]) as one complex number so that it matches the rotate-half
layout, computed in float32 or float64 and rounded to x's dtype once."""

import torch


def rope_cos_sin(
    head_dim: int, max_len: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    if head_dim % 2 == 1:
        raise ValueError(f"RoPE rotates pairs: head_dim={head_dim} is odd")
    freqs = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.outer(torch.arange(max_len, dtype=torch.float64), freqs)
    freqs_cis = torch.polar(torch.ones_like(angles), angles)  # (max_len, head_dim / 2)
    cos = torch.cat([freqs_cis.real, freqs_cis.real], dim=-1)
    sin = torch.cat([freqs_cis.imag, freqs_cis.imag], dim=-1)
    return cos.float(), sin.float()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    D = x.size(-1)
    if D % 2 == 1:
        raise ValueError(f"rotate_half: last dim {D} is odd")
    sign = torch.ones(D, dtype=x.dtype, device=x.device)
    sign[: D // 2] = -1
    return x.roll(D // 2, dims=-1) * sign  # [x2, x1] * [-1, +1]


def apply_rope(
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> torch.Tensor:
    *_, T, D = x.shape
    if D % 2 == 1:
        raise ValueError(f"apply_rope: head_dim {D} is odd")
    if cos.size(-1) != D or sin.size(-1) != D:
        raise ValueError(f"apply_rope: tables of width {cos.size(-1)} for head_dim {D}")
    if positions is None:
        if cos.size(0) < T:
            raise ValueError(f"apply_rope: T={T} exceeds the tables' {cos.size(0)} rows")
        positions = torch.arange(T, device=x.device)
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    half = D // 2
    z = torch.view_as_complex(
        torch.stack([x[..., :half], x[..., half:]], dim=-1).to(work).contiguous()
    )  # (..., T, D/2) complex
    rot = torch.complex(cos[positions, :half].to(work), sin[positions, :half].to(work))
    out = z * rot  # (a + ib) e^{iθ}
    return torch.cat([out.real, out.imag], dim=-1).to(x.dtype)
