"""Wrong: the Hugging Face ascending formulation without its min_tokens_to_keep guard: for
a tiny p the threshold 1 - p rounds to 1 in float32, every running sum is <= it, and every
token is cut (p = 0 does the same)."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    sorted_logits, order = torch.sort(logits, dim=-1)
    up_to = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    cut_sorted = up_to <= 1 - p
    cut = cut_sorted.scatter(-1, order, cut_sorted)
    return logits.masked_fill(cut, float("-inf"))


def top_p_sample(
    logits: torch.Tensor,
    p: float,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_p_filter(logits / temperature, p), dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    tokens = torch.multinomial(flat, 1, generator=generator)
    return tokens.reshape(probs.shape[:-1])
