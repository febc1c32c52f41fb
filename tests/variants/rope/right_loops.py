"""Right: tables from Python's math, one position and frequency at a time, and the
rotation written pair by pair."""

import math

import torch


def rope_cos_sin(
    head_dim: int, max_len: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    if head_dim % 2:
        raise ValueError(f"odd head_dim {head_dim}")
    half = head_dim // 2
    cos_rows, sin_rows = [], []
    for pos in range(max_len):
        angles = [pos * base ** (-2 * i / head_dim) for i in range(half)]
        cos_rows.append([math.cos(a) for a in angles] * 2)
        sin_rows.append([math.sin(a) for a in angles] * 2)
    shape = (max_len, head_dim)
    cos = torch.tensor(cos_rows, dtype=torch.float32).reshape(shape)
    sin = torch.tensor(sin_rows, dtype=torch.float32).reshape(shape)
    return cos, sin


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    D = x.shape[-1]
    if D % 2:
        raise ValueError(f"odd last dim {D}")
    half = D // 2
    columns = [-x[..., half + i] for i in range(half)] + [x[..., i] for i in range(half)]
    return torch.stack(columns, dim=-1)


def apply_rope(
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> torch.Tensor:
    T, D = x.shape[-2:]
    if D % 2:
        raise ValueError(f"odd head_dim {D}")
    if cos.shape[1] != D:
        raise ValueError(f"tables are for head_dim {cos.shape[1]}, x has {D}")
    if positions is None:
        if cos.shape[0] < T:
            raise ValueError(f"T={T} but the tables stop at max_len={cos.shape[0]}")
        positions = torch.arange(T, device=x.device)
    half = D // 2
    c = cos.index_select(0, positions).to(x.dtype)  # (T, D)
    s = sin.index_select(0, positions).to(x.dtype)
    first, second = [], []
    for i in range(half):
        a, b = x[..., i], x[..., i + half]  # (..., T)
        first.append(a * c[:, i] - b * s[:, i])
        second.append(b * c[:, i + half] + a * s[:, i + half])
    return torch.stack(first + second, dim=-1)
