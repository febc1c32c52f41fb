"""Right: the PyTorch tutorial's table, div_term = exp(2i * -log(base) / d_model), all in
float32, with sin and cos stacked and flattened into the interleaved layout."""

import math

import torch
from torch import nn


def sinusoidal_position_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    if d_model % 2:
        raise ValueError(f"d_model={d_model} is odd")
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)  # (max_len, 1)
    div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(base) / d_model))
    angles = position * div_term  # (max_len, d_model / 2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)  # sin, cos, sin, ...


class SinusoidalPositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.max_len = max_len
        self.register_buffer("pe", sinusoidal_position_encoding(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.max_len:
            raise ValueError(f"sequence of {x.shape[1]} positions, max_len={self.max_len}")
        # in float32 (or float64) first, rounded to x's dtype once
        return (x + self.pe[: x.shape[1]]).to(x.dtype)


class LearnablePositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        if d_model % 2:
            raise ValueError(f"d_model={d_model} is odd")
        self.max_len = max_len
        self.pe = nn.Parameter(torch.zeros(max_len, d_model))
        nn.init.trunc_normal_(self.pe, std=0.02, a=-2.0, b=2.0)  # timm's cut at ±2, not ±2σ

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.max_len:
            raise ValueError(f"sequence of {x.shape[1]} positions, max_len={self.max_len}")
        return x + self.pe[None, : x.shape[1], :].to(x.dtype)
