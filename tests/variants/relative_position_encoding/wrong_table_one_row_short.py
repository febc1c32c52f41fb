"""Wrong: the table has 2·max rows instead of 2·max + 1, and distances are clipped
to [-max, max - 1] to fit."""

import math

import torch
from torch import nn


class RelativePosition(nn.Module):
    def __init__(self, num_units: int, max_relative_position: int) -> None:
        super().__init__()
        self.max_relative_position = max_relative_position
        self.embeddings_table = nn.Parameter(torch.empty(2 * max_relative_position, num_units))
        nn.init.xavier_uniform_(self.embeddings_table)

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        k = self.max_relative_position
        device = self.embeddings_table.device
        q_pos = torch.arange(length_q, device=device)[:, None]
        k_pos = torch.arange(length_k, device=device)[None, :]
        distance = (k_pos - q_pos).clamp(-k, k - 1)
        return self.embeddings_table[distance + k]


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    buckets = torch.zeros_like(relative_position, dtype=torch.long)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    ratio = distance.float().clamp(min=max_exact) / max_exact
    log_bucket = torch.log(ratio) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = (max_exact + log_bucket.long()).clamp(max=num_buckets - 1)
    return buckets + torch.where(is_small, distance.long(), large)
