"""Right: keeps the sequence as a LongTensor and converts it with .tolist() for the model."""

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
    ids = torch.tensor(prompt, dtype=torch.long)
    start = ids.numel()
    for _ in range(max_new_tokens):
        logits = step(ids.tolist())
        token = logits.argmax().cpu().reshape(1)
        ids = torch.cat([ids, token])
        if token.item() == eos_id:
            break
    return ids[start:].tolist()
