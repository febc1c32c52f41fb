"""Wrong: the length in the length penalty counts the prompt as well as the new tokens."""

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
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if max_new_tokens == 0:
        return [([], 0.0)]
    live = [([], 0.0)]
    finished = []
    for _ in range(max_new_tokens):
        candidates = []
        for tokens, total in live:
            logp = torch.log_softmax(step(prompt + tokens).double(), dim=-1).tolist()
            candidates += [([*tokens, v], total + lp) for v, lp in enumerate(logp)]
        candidates.sort(key=lambda c: (-c[1], c[0]))
        live = []
        for tokens, total in candidates[:beam_width]:
            (finished if tokens[-1] == eos_id else live).append((tokens, total))
        if not live:
            break
    finished += live
    scored = [(t, s / (len(prompt) + len(t)) ** length_penalty) for t, s in finished]
    scored.sort(key=lambda c: (-c[1], c[0]))
    return scored[:beam_width]
