"""Wrong: breaks ties in favour of the highest token id (the last index of the maximum)."""

from collections.abc import Callable

import torch


def greedy_search(
    step: Callable[[list[int]], torch.Tensor],
    prompt: list[int],
    max_new_tokens: int,
    eos_id: int | None = None,
) -> list[int]:
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    new: list[int] = []
    for _ in range(max_new_tokens):
        logits = step(prompt + new)
        flipped = int(torch.argmax(logits.flip(0)))
        token = logits.shape[0] - 1 - flipped
        new.append(token)
        if token == eos_id:
            break
    return new
