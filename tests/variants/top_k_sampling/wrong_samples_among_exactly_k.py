"""Wrong: samples among torch.topk's k tokens, so of the tokens tied at the k-th value only
the one(s) topk happened to return can ever be drawn."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    k = min(k, logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
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
    top = torch.topk(logits, min(k, logits.shape[-1]), dim=-1)
    probs = torch.softmax(top.values / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    picks = torch.multinomial(flat, 1, generator=generator)
    picks = picks.reshape(*probs.shape[:-1], 1)
    return top.indices.gather(-1, picks).squeeze(-1)
