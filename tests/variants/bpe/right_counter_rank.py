"""Right: Counter plus explicit first positions for training; minbpe's lowest-rank encode loop."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise


def _replace(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out: list[int] = []
    i = 0
    while i < len(ids):
        if ids[i : i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_bpe(text: str, vocab_size: int) -> list[tuple[int, int]]:
    ids = list(text.encode("utf-8"))
    merges: list[tuple[int, int]] = []
    while 256 + len(merges) < vocab_size and len(ids) > 1:
        pairs = list(pairwise(ids))
        counts = Counter(pairs)
        first = {}
        for position, pair in enumerate(pairs):
            first.setdefault(pair, position)
        best = min(counts, key=lambda p: (-counts[p], first[p]))
        ids = _replace(ids, best, 256 + len(merges))
        merges.append(best)
    return merges


def encode(text: str, merges: list[tuple[int, int]]) -> list[int]:
    rank = {pair: i for i, pair in enumerate(merges)}
    ids = list(text.encode("utf-8"))
    while len(ids) > 1:
        present = set(pairwise(ids))
        pair = min(present, key=lambda p: rank.get(p, float("inf")))
        if pair not in rank:
            break
        ids = _replace(ids, pair, 256 + rank[pair])
    return ids


def decode(ids: list[int], merges: list[tuple[int, int]]) -> str:
    vocab = {b: bytes([b]) for b in range(256)}
    for i, (left, right) in enumerate(merges):
        vocab[256 + i] = vocab[left] + vocab[right]
    if any(i not in vocab for i in ids):
        raise ValueError("decode: unknown id")
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")
