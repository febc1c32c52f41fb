"""Right: a softmax written out (shifted by the row max), and inverse-CDF sampling: one
uniform draw per row, located in the row's cumulative sum with searchsorted."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        first_max = logits.argmax(dim=-1, keepdim=True)
        index = torch.arange(logits.shape[-1], device=logits.device)
        return (index == first_max).to(logits.dtype)
    scaled = logits / temperature
    e = (scaled - scaled.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def sample_with_temperature(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = apply_temperature(logits.double(), temperature)
    cdf = probs.cumsum(dim=-1)
    # scaled by the row's total, u stays below the last cumulative sum despite rounding
    u = torch.rand(
        (*probs.shape[:-1], 1), generator=generator, dtype=torch.float64, device=logits.device
    )
    tokens = torch.searchsorted(cdf, u * cdf[..., -1:], right=True)
    return tokens.clamp(max=probs.shape[-1] - 1).squeeze(-1)
