"""Wrong: counts (a, a) in [a, a, a] once (like str.count), not at every position."""

from __future__ import annotations

from itertools import pairwise


def train_bpe(text: str, vocab_size: int) -> list[tuple[int, int]]:
    ids = list(text.encode("utf-8"))  # (n,) byte ids 0..255
    merges: list[tuple[int, int]] = []
    for new_id in range(256, vocab_size):
        if len(ids) < 2:
            break  # no pair left: stop early
        counts: dict[tuple[int, int], int] = {}
        for pair in pairwise(ids):
            if pair not in counts:  # occurrences that a non-overlapping merge would replace
                counts[pair] = len(ids) - len(_merge(ids, pair, -1))
        # dicts keep insertion order and max() returns the first maximum it meets,
        # so a tie goes to the pair seen first
        best = max(counts, key=counts.__getitem__)
        ids = _merge(ids, best, new_id)
        merges.append(best)
    return merges


def encode(text: str, merges: list[tuple[int, int]]) -> list[int]:
    ids = list(text.encode("utf-8"))
    for i, pair in enumerate(merges):  # training order: merge i may build on merge i - 1
        ids = _merge(ids, pair, 256 + i)
    return ids


def decode(ids: list[int], merges: list[tuple[int, int]]) -> str:
    vocab = [bytes([b]) for b in range(256)]  # id -> its bytes
    for left, right in merges:
        vocab.append(vocab[left] + vocab[right])  # both ids exist already
    for i in ids:
        if not 0 <= i < len(vocab):  # a negative index would silently wrap around
            raise ValueError(f"unknown id {i}: ids must lie in [0, {len(vocab)})")
    # join all bytes first: a character may be split across ids
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2  # skip both halves: [a, a, a] -> [new, a], never [new, new]
        else:
            out.append(ids[i])
            i += 1
    return out
