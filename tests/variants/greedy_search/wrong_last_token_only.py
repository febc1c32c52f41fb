"""Wrong: feeds the model only the last token instead of the whole sequence so far."""

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
    last = prompt[-1:]
    for _ in range(max_new_tokens):
        token = int(torch.argmax(step(last)))
        new.append(token)
        last = [token]
        if token == eos_id:
            break
    return new
