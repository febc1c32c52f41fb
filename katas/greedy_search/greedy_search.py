"""Greedy decoding: extend a prompt with the model's most likely token, one token at a time."""

from collections.abc import Callable

import torch


def greedy_search(
    step: Callable[[list[int]], torch.Tensor],
    prompt: list[int],
    max_new_tokens: int,
    eos_id: int | None = None,
) -> list[int]:
    """The continuation of `prompt` that takes the most likely next token at every step.

        new = []
        repeat at most max_new_tokens times:
            logits = step(prompt + new)            # (V,)
            token  = argmax over v of logits[v]    # = argmax of softmax(logits): same order
            new.append(token)
            stop if token == eos_id

    Args:
        step: the model. step(ids) takes the whole sequence so far as a list of Python
            ints, the prompt followed by every token generated so far, and returns the
            logits of the next token: a tensor (V,) of any floating dtype, on any device.
        prompt: the tokens to continue, a list of Python ints in [0, V); may be empty.
        max_new_tokens: the most tokens to generate, an int >= 0.
        eos_id: the end-of-sequence token, or None when there is none.

    Returns:
        new: the generated tokens only (not the prompt), a list of Python ints (not
        tensors), at most max_new_tokens long. When eos_id is generated it is kept as the
        last token of `new`: generation stops right after it.

    Conventions and edge cases:
        Ties: when several tokens share the largest logit, the lowest token id wins (what
            torch.argmax returns: the first index of the maximum).
        step only ever sees prompt + new[:i], a list of Python ints; the prompt list
            itself is left unchanged.
        max_new_tokens == 0 returns [] (the model need not be called).
        eos_id None: generation always runs for max_new_tokens tokens. A prompt that ends
            in eos_id is continued like any other: only a generated eos_id stops.

    Raises:
        ValueError: if max_new_tokens < 0.

    Do not use: nothing is off limits (torch.argmax is fine).
    """
    raise NotImplementedError
