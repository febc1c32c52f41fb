"""Right: the table built entry by entry with Python's math, the modules with explicit
index arithmetic."""

import math

import torch
from torch import nn


def sinusoidal_position_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    if d_model % 2 != 0:
        raise ValueError(f"odd d_model={d_model}: sines and cosines come in pairs")
    rows = []
    for pos in range(max_len):
        row = []
        for col in range(d_model):
            angle = pos / base ** ((col - col % 2) / d_model)
            row.append(math.sin(angle) if col % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32).reshape(max_len, d_model)


class SinusoidalPositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        table = sinusoidal_position_encoding(max_len, d_model)
        self.register_buffer("pe", table, persistent=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.size(1)
        if length > self.pe.size(0):
            raise ValueError(f"got {length} positions but max_len is {self.pe.size(0)}")
        return torch.add(x, self.pe.narrow(0, 0, length).type(x.dtype))


class LearnablePositionEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        if d_model % 2 != 0:
            raise ValueError(f"odd d_model={d_model}")
        self.pe = nn.Parameter(torch.empty(max_len, d_model).normal_(0.0, 0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.size(1)
        if length > self.pe.size(0):
            raise ValueError(f"got {length} positions but max_len is {self.pe.size(0)}")
        rows = torch.arange(length, device=x.device)
        return x + self.pe.index_select(0, rows).type(x.dtype)
