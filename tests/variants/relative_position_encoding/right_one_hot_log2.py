"""Right: the lookup as a one-hot matrix product, and the buckets with log2 in float64,
built from a sign and a distance with torch.where."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class RelativePosition(nn.Module):
    def __init__(self, num_units: int, max_relative_position: int) -> None:
        super().__init__()
        self.max_relative_position = max_relative_position
        self.embeddings_table = nn.Parameter(
            torch.rand(2 * max_relative_position + 1, num_units) * 0.2 - 0.1
        )

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        table = self.embeddings_table
        m = self.max_relative_position
        rel = torch.arange(length_k, device=table.device) - torch.arange(
            length_q, device=table.device
        ).unsqueeze(-1)
        index = torch.minimum(torch.maximum(rel, torch.tensor(-m)), torch.tensor(m)) + m
        one_hot = F.one_hot(index, num_classes=2 * m + 1).to(table.dtype)  # (Lq, Lk, 2m+1)
        return torch.einsum("qkr,ru->qku", one_hot, table)


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    rel = relative_position.long()
    if bidirectional:
        half = num_buckets // 2
        offset = torch.where(rel > 0, half, 0)
        n = rel.abs()
    else:
        half = num_buckets
        offset = torch.zeros_like(rel)
        n = torch.where(rel < 0, -rel, 0)
    exact = half // 2
    steps = torch.log2(n.double().clamp(min=1) / exact) / math.log2(max_distance / exact)
    log_bucket = exact + torch.floor(steps * (half - exact)).long()
    bucket = torch.where(n < exact, n, torch.clamp(log_bucket, max=half - 1))
    return offset + bucket
