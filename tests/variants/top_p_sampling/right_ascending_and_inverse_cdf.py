"""Right: the Hugging Face formulation, sorted ascending: cut a token when the mass of the
tokens no more probable than it (itself included) is at most 1 - p, never the last (the
most probable); then inverse-CDF sampling with one uniform draw per row."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    sorted_logits, order = torch.sort(logits.double(), dim=-1)
    up_to = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    cut_sorted = up_to <= 1 - p
    cut_sorted[..., -1] = False
    cut = cut_sorted.scatter(-1, order, cut_sorted)
    return torch.where(cut, torch.full_like(logits, float("-inf")), logits)


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
    scaled = top_p_filter(logits.double() / temperature, p)
    weights = (scaled - scaled.amax(dim=-1, keepdim=True)).exp()  # 0 outside the nucleus
    cdf = weights.cumsum(dim=-1)
    u = torch.rand(
        (*logits.shape[:-1], 1), generator=generator, dtype=torch.float64, device=logits.device
    )
    tokens = torch.searchsorted(cdf, u * cdf[..., -1:], right=True)
    return tokens.clamp(max=logits.shape[-1] - 1).squeeze(-1)
