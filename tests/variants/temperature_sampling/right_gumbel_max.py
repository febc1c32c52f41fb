"""Right: the Gumbel-max trick: argmax(logits / T + G) with G = -log(-log(U)) drawn from
the generator is a draw from softmax(logits / T), with no softmax and no normalisation."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    return torch.softmax(logits.double() / temperature, dim=-1).to(logits.dtype)


def sample_with_temperature(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    # U in [0, 1) in float64: U = 0 gives G = -inf (never chosen), U < 1 keeps G finite above
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64, device=logits.device)
    gumbel = -torch.log(-torch.log(u))
    return (logits.double() / temperature + gumbel).argmax(dim=-1)
