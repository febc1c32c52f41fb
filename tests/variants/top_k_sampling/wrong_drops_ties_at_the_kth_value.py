"""Wrong: keeps exactly the k tokens torch.topk returns, so a token tied with the k-th
value is dropped (or kept) depending on topk's order."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    k = min(k, logits.shape[-1])
    top = torch.topk(logits, k, dim=-1)
    out = torch.full_like(logits, float("-inf"))
    return out.scatter(-1, top.indices, top.values)


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
