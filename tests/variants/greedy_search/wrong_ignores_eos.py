"""Wrong: never stops at eos; always spends the whole budget."""

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
        new.append(int(torch.argmax(step(prompt + new))))
    return new
