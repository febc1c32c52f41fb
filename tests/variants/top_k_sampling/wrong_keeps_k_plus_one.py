"""Wrong: off by one: takes the threshold at sorted index k instead of k - 1, keeping the
top k + 1 tokens."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranked = torch.sort(logits, dim=-1, descending=True).values
    kth = ranked[..., min(k, logits.shape[-1] - 1), None]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_k_sample(
    logits: torch.Tensor,
    k: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_k_filter(logits, k) / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    tokens = torch.multinomial(flat, 1, generator=generator)
    return tokens.reshape(probs.shape[:-1])
