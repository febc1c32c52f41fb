"""Right: one sample at a time with Python floats for the coefficients; the posterior
variance is returned at x_t's full shape (allowed: it broadcasts)."""

import math
from collections.abc import Callable

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    step = (beta_end - beta_start) / max(T - 1, 1)
    return torch.tensor([beta_start + i * step for i in range(T)], dtype=torch.float64)


def cosine_beta_schedule(T: int, s: float = 0.008) -> torch.Tensor:
    u = torch.linspace(0, T, T + 1, dtype=torch.float64)
    abar = torch.cos((u / T + s) / (1 + s) * (math.pi / 2)).square()
    abar = abar / abar[0].clone()
    return torch.clamp(1 - abar[1:] / abar[:-1], max=0.999)


def _abars(betas: torch.Tensor) -> list[float]:
    out, running = [], 1.0
    for beta in betas.tolist():
        running *= 1 - beta
        out.append(running)
    return out


def q_sample(
    x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    abar = alphas_cumprod.tolist()
    rows = [
        math.sqrt(abar[s]) * x0[i] + math.sqrt(1 - abar[s]) * noise[i]
        for i, s in enumerate(t.tolist())
    ]
    return torch.stack(rows)


def predict_x0_from_eps(
    x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    abar = alphas_cumprod.tolist()
    rows = [
        (x_t[i] - math.sqrt(1 - abar[s]) * eps[i]) / math.sqrt(abar[s])
        for i, s in enumerate(t.tolist())
    ]
    return torch.stack(rows)


def posterior_mean_variance(
    x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    abar, beta = _abars(betas), betas.tolist()
    means, variances = [], []
    for i, s in enumerate(t.tolist()):
        prev = abar[s - 1] if s > 0 else 1.0
        c0 = beta[s] * math.sqrt(prev) / (1 - abar[s])
        ct = (1 - prev) * math.sqrt(1 - beta[s]) / (1 - abar[s])
        means.append(c0 * x0[i] + ct * x_t[i])
        variances.append(torch.full_like(x_t[i], (1 - prev) / (1 - abar[s]) * beta[s]))
    return torch.stack(means), torch.stack(variances)


def p_sample_step(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_t: torch.Tensor,
    t: torch.Tensor,
    betas: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    alphas_cumprod = torch.tensor(_abars(betas), dtype=betas.dtype, device=betas.device)
    x0_hat = predict_x0_from_eps(x_t, t, eps_model(x_t, t), alphas_cumprod)
    mean, variance = posterior_mean_variance(x0_hat, x_t, t, betas)
    rows = [
        mean[i] + (variance[i].sqrt() * noise[i] if s > 0 else 0) for i, s in enumerate(t.tolist())
    ]
    return torch.stack(rows)


def training_loss(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    betas: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    t = torch.randint(0, len(betas), (len(x0),), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    alphas_cumprod = torch.tensor(_abars(betas), dtype=torch.float64)
    x_t = q_sample(x0, t, noise, alphas_cumprod)
    return (eps_model(x_t, t) - noise).pow(2).sum() / noise.numel()
