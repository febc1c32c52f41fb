"""Right: a (count, -first position) table per pair for training; decode expands ids recursively."""

from __future__ import annotations


def _merge_once(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out: list[int] = []
    skip = False
    for j, token in enumerate(ids):
        if skip:
            skip = False
        elif j + 1 < len(ids) and (token, ids[j + 1]) == pair:
            out.append(new_id)
            skip = True
        else:
            out.append(token)
    return out


def train_bpe(text: str, vocab_size: int) -> list[tuple[int, int]]:
    ids = list(text.encode("utf-8"))
    merges: list[tuple[int, int]] = []
    for new_id in range(256, max(vocab_size, 256)):
        table: dict[tuple[int, int], list[int]] = {}  # pair -> [count, -first position]
        for j in range(len(ids) - 1):
            entry = table.setdefault((ids[j], ids[j + 1]), [0, -j])
            entry[0] += 1
        if not table:
            break
        best = max(table, key=lambda p: tuple(table[p]))
        ids = _merge_once(ids, best, new_id)
        merges.append(best)
    return merges


def encode(text: str, merges: list[tuple[int, int]]) -> list[int]:
    ids = list(text.encode("utf-8"))
    for new_id, pair in enumerate(merges, start=256):
        ids = _merge_once(ids, pair, new_id)
    return ids


def decode(ids: list[int], merges: list[tuple[int, int]]) -> str:
    def expand(token: int) -> bytes:
        if token < 0 or token >= 256 + len(merges):
            raise ValueError(f"id {token} is not in the vocabulary")
        if token < 256:
            return bytes([token])
        left, right = merges[token - 256]
        return expand(left) + expand(right)

    return b"".join(expand(t) for t in ids).decode("utf-8", errors="replace")
