"""Wrong: writes -inf into the caller's logits (logits[cut] = -inf) instead of a copy."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs
    cut_sorted = before >= p
    cut_sorted[..., 0] = False
    cut = torch.zeros_like(cut_sorted).scatter(-1, order, cut_sorted)
    logits[cut] = float("-inf")
    return logits


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
