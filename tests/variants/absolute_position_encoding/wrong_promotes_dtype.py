"""Wrong: adds the float32 table without casting it to x's dtype, so float16 and
bfloat16 inputs come back as float32."""

import torch
from torch import nn


def sinusoidal_position_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    if d_model % 2:
        raise ValueError(f"d_model must be even, got {d_model}")
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = pos / base ** (two_i / d_model)
    pe = torch.empty(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()
    pe[:, 1::2] = angles.cos()
    return pe.float()


class SinusoidalPositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_position_encoding(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq_len, max_len = x.shape[-2], self.pe.shape[0]
        if seq_len > max_len:
            raise ValueError(f"sequence length {seq_len} > max_len {max_len}")
        return x + self.pe[:seq_len]


class LearnablePositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        if d_model % 2:
            raise ValueError(f"d_model must be even, got {d_model}")
        self.pe = nn.Parameter(torch.randn(max_len, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq_len, max_len = x.shape[-2], self.pe.shape[0]
        if seq_len > max_len:
            raise ValueError(f"sequence length {seq_len} > max_len {max_len}")
        return x + self.pe[:seq_len]
