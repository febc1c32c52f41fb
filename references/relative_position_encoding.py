"""Relative position encodings: Shaw et al.'s clipped table of embeddings, and T5's
log-spaced buckets of relative positions."""

import math

import torch
from torch import nn


class RelativePosition(nn.Module):
    """Shaw, Uszkoreit and Vaswani (2018): one learnt vector per clipped relative distance.

        out[i, j, :] = embeddings_table[clip(j - i, -max_relative_position,
                                                max_relative_position) + max_relative_position]

    i is the query's position and j the key's, so j - i > 0 when the key comes after the
    query. Distances beyond max_relative_position share the edge rows: row 0 serves every
    key at least max_relative_position before the query, row 2·max_relative_position every
    key at least that far after it, and the middle row (index max_relative_position) the
    key at the query's own position.

    Args:
        num_units: the size of each embedding (the per-head feature size in attention).
        max_relative_position: the largest distance told apart, an integer >= 0.

    Attributes:
        embeddings_table: an nn.Parameter (2·max_relative_position + 1, num_units),
            float32, initialised with nn.init.xavier_uniform_ as the well-known
            implementation does (the tests load their own values; only the shape, the
            name and its being a parameter are checked). The module's state_dict holds
            exactly "embeddings_table".

    forward(length_q, length_k):
        length_q, length_k: the numbers of queries and keys, integers >= 1; they may
            differ (cross-attention, or decoding with a cache).
        Returns (length_q, length_k, num_units) with the table's dtype and device. It is
        a differentiable lookup: the gradient of each table row is the sum of the upstream
        gradients of the entries that use it, and rows no entry uses get zero.

    Do not use: nothing is forbidden.
    """

    def __init__(self, num_units: int, max_relative_position: int) -> None:
        """Build embeddings_table, (2·max_relative_position + 1, num_units)."""
        super().__init__()
        self.max_relative_position = max_relative_position
        rows = 2 * max_relative_position + 1  # distances -max..max
        self.embeddings_table = nn.Parameter(torch.empty(rows, num_units))
        nn.init.xavier_uniform_(self.embeddings_table)

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        """(length_q, length_k, num_units): the embedding of each query-key distance."""
        k = self.max_relative_position
        device = self.embeddings_table.device
        q_pos = torch.arange(length_q, device=device)[:, None]  # (length_q, 1)
        k_pos = torch.arange(length_k, device=device)[None, :]  # (1, length_k)
        distance = (k_pos - q_pos).clamp(-k, k)  # (length_q, length_k), key minus query
        return self.embeddings_table[distance + k]  # (length_q, length_k, num_units)


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """T5's bucket for each relative position: exact for small distances, log-spaced up to
    max_distance, and one shared bucket beyond.

    relative_position = memory_position - query_position (key minus query, as in Hugging
    Face's T5), so it is positive when the key comes after the query.

    With bidirectional=True, each direction gets half the buckets, n = num_buckets // 2:
    relative positions <= 0 (the key at or before the query) use buckets 0..n-1, and
    positive ones use buckets n..2n-1 (offset by n). With bidirectional=False (causal
    attention) all num_buckets serve the past, n = num_buckets, and every positive
    relative position maps to bucket 0, like distance 0.

    Within a direction, with the distance d = |relative_position| and
    max_exact = n // 2:
        d < max_exact:  bucket d (one bucket per distance);
        otherwise:      bucket max_exact + trunc(log(d / max_exact) / log(max_distance /
                        max_exact) * (n - max_exact)), capped at n - 1,
    so the buckets from max_exact to n - 1 cover distances up to max_distance on a log
    scale, and every distance from max_distance on shares bucket n - 1. Buckets never
    decrease as the distance grows.

    Where the log term lands exactly on an integer (d = 16, 32 or 64 with the defaults),
    float rounding may put d in that bucket or the one below; the tests accept either.
    Computing the log in float32, as Hugging Face does, is fine.

    Args:
        relative_position: an integer (int64) tensor of any shape, on any device.
        bidirectional: whether keys after the query get buckets of their own.
        num_buckets: the total number of buckets; n (above) must be at least 2.
        max_distance: the distance from which on every distance shares the last bucket;
            greater than max_exact.

    Returns:
        An int64 tensor of relative_position's shape and device, with values in
        0..num_buckets-1 (0..2·(num_buckets // 2)-1 when bidirectional). The input is left
        unchanged.

    Do not use: nothing is forbidden.
    """
    buckets = torch.zeros_like(relative_position, dtype=torch.long)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).long() * num_buckets  # keys after the query
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)  # the future joins distance 0
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    # clamp before the log so that small distances (answered exactly) never see log(0)
    ratio = distance.float().clamp(min=max_exact) / max_exact
    log_bucket = torch.log(ratio) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = (max_exact + log_bucket.long()).clamp(max=num_buckets - 1)  # trunc, then saturate
    return buckets + torch.where(is_small, distance.long(), large)
