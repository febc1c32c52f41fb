"""Byte-level byte-pair encoding (BPE): train the merges, encode text, decode ids.

Fill in the three functions below. Run `nox -s check -- bpe` to grade them.
"""

from __future__ import annotations


def train_bpe(text: str, vocab_size: int) -> list[tuple[int, int]]:
    """Learn byte-level BPE merges from `text`.

    Start from the UTF-8 bytes of `text` as ids 0..255. Round i (i = 0, 1, ...):
        1. count every adjacent pair (ids[j], ids[j + 1]) of the current sequence, at every
           position j (so [a, a, a] holds the pair (a, a) twice);
        2. pick the most frequent pair;
        3. replace it everywhere, left to right and without overlap, by the new id 256 + i
           ([a, a, a] becomes [256 + i, a]);
        4. record the pair as merges[i].

    Conventions:
        - Ties go to the pair seen first: the one whose first occurrence in the current
          sequence is leftmost (not the smallest or largest pair).
        - A pair that occurs once is still merged: any count >= 1 qualifies.
        - Training stops after vocab_size - 256 merges, or earlier when the sequence has
          fewer than 2 ids left (no pair to count).
        - vocab_size <= 256, an empty text or a one-byte text gives no merges: [].

    Args:
        text: the training text, any unicode.
        vocab_size: 256 byte ids plus the number of merges wanted.

    Returns:
        merges: list of (left_id, right_id) pairs; merges[i] made the id 256 + i, and both of
        its ids are < 256 + i.

    Do not use: tokenizers, tiktoken, sentencepiece.
    """
    raise NotImplementedError


def encode(text: str, merges: list[tuple[int, int]]) -> list[int]:
    """Encode `text` into ids with the learned `merges`.

    Start from the UTF-8 bytes of `text`, then apply the merges in training order: merge 0
    everywhere (left to right, without overlap), then merge 1 everywhere, and so on, so
    merges[i] turns the pair into the id 256 + i. This gives the same ids as minbpe's loop
    that always merges the present pair of lowest rank (smallest i) next. A merge whose pair
    does not occur does nothing.

    Args:
        text: any unicode text; "" encodes to [].
        merges: as returned by `train_bpe`.

    Returns:
        ids: list of int, each in [0, 256 + len(merges)).

    Do not use: tokenizers, tiktoken, sentencepiece.
    """
    raise NotImplementedError


def decode(ids: list[int], merges: list[tuple[int, int]]) -> str:
    """Turn `ids` back into text.

    Expand every id into its bytes (a byte id b < 256 is the byte b; the id 256 + i is the
    bytes of merges[i][0] followed by those of merges[i][1]), concatenate the bytes of all
    ids, and decode the whole byte string as UTF-8 once, with errors="replace": a byte
    sequence that is not valid UTF-8 becomes U+FFFD ("\\ufffd") instead of raising. A
    character whose bytes are split across several ids decodes normally.

    Args:
        ids: list of int, e.g. the output of `encode`; [] decodes to "".
        merges: as returned by `train_bpe`.

    Returns:
        The decoded text; decode(encode(t, merges), merges) == t for every str t.

    Raises:
        ValueError: if an id is negative or >= 256 + len(merges).

    Do not use: tokenizers, tiktoken, sentencepiece.
    """
    raise NotImplementedError
