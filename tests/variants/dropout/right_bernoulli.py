"""Right: a Bernoulli(1 - p) mask from torch.bernoulli and the given generator."""

import torch


def dropout(
    x: torch.Tensor,
    p: float,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    if p < 0 or p > 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training:
        return x
    if p == 1:
        return torch.zeros_like(x) * x  # zeros that still carry a (zero) gradient to x
    keep_prob = torch.full(x.shape, 1 - p, dtype=torch.float32, device=x.device)
    mask = torch.bernoulli(keep_prob, generator=generator).to(x.dtype)
    return x * mask / (1 - p)
