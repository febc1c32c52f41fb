"""Right: pure Python. max() returns the first maximum, so ties go to the lowest id."""

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
    while len(new) < max_new_tokens and (not new or new[-1] != eos_id):
        row = step([*prompt, *new]).tolist()
        new.append(max(range(len(row)), key=row.__getitem__))
    return new
