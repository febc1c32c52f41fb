"""Right: the index grid and every bucket computed one element at a time with Python
integers and math.log (in float64, where the reference uses float32)."""

import math

import torch
from torch import nn


class RelativePosition(nn.Module):
    def __init__(self, num_units: int, max_relative_position: int) -> None:
        super().__init__()
        self.max_relative_position = max_relative_position
        table = torch.empty(2 * max_relative_position + 1, num_units)
        self.embeddings_table = nn.Parameter(nn.init.xavier_uniform_(table))

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        m = self.max_relative_position
        index = [[min(max(j - i, -m), m) + m for j in range(length_k)] for i in range(length_q)]
        index = torch.tensor(index, dtype=torch.long, device=self.embeddings_table.device)
        return self.embeddings_table[index.view(length_q, length_k)]


def _bucket(rel: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    offset = 0
    if bidirectional:
        num_buckets //= 2
        if rel > 0:
            offset = num_buckets
        n = abs(rel)
    else:
        n = -rel if rel < 0 else 0
    max_exact = num_buckets // 2
    if n < max_exact:
        return offset + n
    scale = (num_buckets - max_exact) / math.log(max_distance / max_exact)
    return offset + min(max_exact + int(math.log(n / max_exact) * scale), num_buckets - 1)


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    values = [
        _bucket(r, bidirectional, num_buckets, max_distance)
        for r in relative_position.flatten().tolist()
    ]
    out = torch.tensor(values, dtype=torch.long, device=relative_position.device)
    return out.reshape(relative_position.shape)
