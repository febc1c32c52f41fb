"""Wrong: without a generator, makes a fresh torch.Generator(), whose fixed default seed
returns the same 'random' tokens at every call."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        top = logits.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(logits).scatter(-1, top, 1.0)
    return torch.softmax(logits / temperature, dim=-1)


def sample_with_temperature(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    if generator is None:
        generator = torch.Generator(device=logits.device)
    probs = apply_temperature(logits, temperature)
    flat = probs.reshape(-1, probs.shape[-1])
    tokens = torch.multinomial(flat, 1, generator=generator)
    return tokens.reshape(probs.shape[:-1])
