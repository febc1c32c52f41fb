"""Wrong: a negative max_new_tokens silently returns [] instead of raising ValueError."""

from collections.abc import Callable

import torch


def greedy_search(
    step: Callable[[list[int]], torch.Tensor],
    prompt: list[int],
    max_new_tokens: int,
    eos_id: int | None = None,
) -> list[int]:
    new: list[int] = []
    for _ in range(max_new_tokens):
        token = int(torch.argmax(step(prompt + new)))
        new.append(token)
        if token == eos_id:
            break
    return new
