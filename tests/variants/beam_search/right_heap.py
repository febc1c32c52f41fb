"""Right: beams as tuples, the best candidates picked with heapq.nsmallest on a sort key
(minus the total, then the tokens), which is sorted(...)[:n] computed with a heap."""

import heapq
from collections.abc import Callable

import torch


def beam_search(
    step: Callable[[list[int]], torch.Tensor],
    prompt: list[int],
    beam_width: int,
    max_new_tokens: int,
    eos_id: int | None = None,
    length_penalty: float = 1.0,
) -> list[tuple[list[int], float]]:
    if beam_width < 1 or max_new_tokens < 0:
        raise ValueError(
            f"need beam_width >= 1 and max_new_tokens >= 0, got {beam_width}, {max_new_tokens}"
        )
    if max_new_tokens == 0:
        return [([], 0.0)]
    live: list[tuple[float, tuple[int, ...]]] = [(0.0, ())]  # (total, tokens)
    finished: list[tuple[float, tuple[int, ...]]] = []
    for _ in range(max_new_tokens):

        def expand(beams):
            for total, tokens in beams:
                logits = step([*prompt, *tokens]).to(torch.float64)
                logp = logits - torch.logsumexp(logits, dim=0)
                for token, lp in enumerate(logp.tolist()):
                    yield total + lp, (*tokens, token)

        kept = heapq.nsmallest(beam_width, expand(live), key=lambda c: (-c[0], c[1]))
        finished += [c for c in kept if c[1][-1] == eos_id]
        live = [c for c in kept if c[1][-1] != eos_id]
        if not live:
            break
    scored = [(total / len(tokens) ** length_penalty, tokens) for total, tokens in finished + live]
    best = heapq.nsmallest(beam_width, scored, key=lambda c: (-c[0], c[1]))
    return [(list(tokens), score) for score, tokens in best]
