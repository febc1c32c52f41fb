"""Wrong: turns logits into probabilities with a bare exp first; huge logits overflow to inf
and every token then looks equally likely."""

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
        logits = step(prompt + new).double()
        probs = logits.exp() / logits.exp().sum()
        token = int(torch.argmax(probs.nan_to_num(nan=0.0)))
        new.append(token)
        if token == eos_id:
            break
    return new
