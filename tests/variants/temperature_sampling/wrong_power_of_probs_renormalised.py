"""Wrong: softmax(logits) ** (1 / T), renormalised. Equal to softmax(logits / T) on paper,
but a token whose probability underflowed to 0 at T = 1 stays at 0 for any T, so a large
temperature cannot bring it back (float32 logits [0, -120] at T = 40)."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        top = logits.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(logits).scatter(-1, top, 1.0)
    powered = torch.softmax(logits, dim=-1) ** (1 / temperature)
    return powered / powered.sum(dim=-1, keepdim=True)


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
