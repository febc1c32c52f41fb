"""Right: the 'shift the mask right' formulation: in descending order, mark tokens whose
running sum (themselves included) passes p, then shift the marks one place right so the
crossing token survives; then the Gumbel-max trick, argmax(filtered + G)."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    probs = torch.softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    passed = sorted_probs.cumsum(dim=-1) >= p
    cut_sorted = torch.zeros_like(passed)
    cut_sorted[..., 1:] = passed[..., :-1]  # the first token past p is still kept
    cut = torch.empty_like(cut_sorted).scatter_(-1, order, cut_sorted)
    out = logits.clone()
    out[cut] = float("-inf")
    return out


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
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64, device=logits.device)
    gumbel = -torch.log(-torch.log(u))
    return (top_p_filter(logits.double() / temperature, p) + gumbel).argmax(dim=-1)
