"""Wrong: keeps only the tokens whose running sum, themselves included, stays within p,
so the token that carries the sum across p is dropped (the nucleus falls short of p)."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    cut_sorted = sorted_probs.cumsum(dim=-1) > p
    cut_sorted[..., 0] = False
    cut = torch.zeros_like(cut_sorted).scatter(-1, order, cut_sorted)
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
