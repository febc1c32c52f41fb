"""Wrong: applies the temperature after the softmax, softmax(logits) ** (1 / T), and never
renormalises: the rows no longer sum to 1 (multinomial renormalises, so the draws are right)."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        top = logits.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(logits).scatter(-1, top, 1.0)
    return torch.softmax(logits, dim=-1) ** (1 / temperature)


def sample_with_temperature(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = apply_temperature(logits, temperature)
    flat = probs.reshape(-1, probs.shape[-1])
    tokens = torch.multinomial(flat, 1, generator=generator)
    return tokens.reshape(probs.shape[:-1])
