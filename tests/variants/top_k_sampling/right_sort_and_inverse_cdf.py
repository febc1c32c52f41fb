"""Right: the k-th value read off a descending sort, and inverse-CDF sampling: one uniform
draw per row, located in the cumulative sum of the renormalised top k with searchsorted."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranked = torch.sort(logits, dim=-1, descending=True).values
    kth = ranked[..., min(k, logits.shape[-1]) - 1].unsqueeze(-1)
    return torch.where(logits >= kth, logits, torch.full_like(logits, float("-inf")))


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
    scaled = top_k_filter(logits.double(), k) / temperature
    weights = (scaled - scaled.amax(dim=-1, keepdim=True)).exp()  # 0 outside the top k
    cdf = weights.cumsum(dim=-1)
    u = torch.rand(
        (*logits.shape[:-1], 1), generator=generator, dtype=torch.float64, device=logits.device
    )
    # u * total < total, and a flat stretch of the cdf (a filtered token) is never landed on
    tokens = torch.searchsorted(cdf, u * cdf[..., -1:], right=True)
    return tokens.clamp(max=logits.shape[-1] - 1).squeeze(-1)
