"""Wrong: accepts k < 1 (k = 0 silently keeps every token: sorted[..., -1] is the minimum)."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    ranked = torch.sort(logits, dim=-1, descending=True).values
    kth = ranked[..., min(k, logits.shape[-1]) - 1, None]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_k_sample(
    logits: torch.Tensor,
    k: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(top_k_filter(logits, k) / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    tokens = torch.multinomial(flat, 1, generator=generator)
    return tokens.reshape(probs.shape[:-1])
