"""Right: the k-th largest value as torch.kthvalue's (V - k + 1)-th smallest, and the
Gumbel-max trick: argmax(filtered / T + G), G = -log(-log(U)); a -inf logit stays -inf."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    V = logits.shape[-1]
    kth = torch.kthvalue(logits, max(V - k + 1, 1), dim=-1, keepdim=True).values
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
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64, device=logits.device)
    gumbel = -torch.log(-torch.log(u))
    return (top_k_filter(logits.double(), k) / temperature + gumbel).argmax(dim=-1)
