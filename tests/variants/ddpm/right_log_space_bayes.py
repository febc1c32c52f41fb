"""Right: abar as exp(cumsum(log(1 - beta))), the posterior as a product of Gaussians
(precisions add), per-sample coefficients by view-broadcasting, a cosine schedule in a loop."""

import math
from collections.abc import Callable

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    if T == 1:
        return torch.tensor([beta_start], dtype=torch.float64)
    steps = torch.arange(T, dtype=torch.float64) / (T - 1)
    return beta_start + (beta_end - beta_start) * steps


def cosine_beta_schedule(T: int, s: float = 0.008) -> torch.Tensor:
    def f(u: int) -> float:
        return math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - f(u + 1) / f(u), 0.999) for u in range(T)]
    return torch.tensor(betas, dtype=torch.float64)


def _abar(betas: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.cumsum(torch.log1p(-betas), dim=0))


def _col(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.to(x.dtype).view(v.shape[0], *(1 for _ in x.shape[1:]))


def q_sample(
    x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    a = alphas_cumprod.gather(0, t)
    return torch.addcmul(_col(a.sqrt(), x0) * x0, _col(torch.sqrt(1 - a), x0), noise)


def predict_x0_from_eps(
    x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    a = alphas_cumprod.gather(0, t)
    return _col(a.rsqrt(), x_t) * x_t - _col(torch.sqrt(1 / a - 1), x_t) * eps


def posterior_mean_variance(
    x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    abar = _abar(betas)
    beta = betas.gather(0, t)
    prev = torch.where(t > 0, abar.gather(0, (t - 1).clamp(min=0)), torch.ones_like(beta))
    # precision of x_{t-1}: alpha/beta from the step, 1/(1 - abar_prev) from the prior
    prior_var = 1 - prev
    var = beta * prior_var / (beta + (1 - beta) * prior_var)  # 1 / (sum of precisions)
    w_xt = var * torch.sqrt(1 - beta) / beta
    w_x0 = torch.where(t > 0, var * prev.sqrt() / prior_var.clamp(min=1e-300), 1.0)
    mean = _col(w_x0, x_t) * x0 + _col(w_xt, x_t) * x_t
    return mean, _col(var, x_t)


def p_sample_step(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_t: torch.Tensor,
    t: torch.Tensor,
    betas: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    x0_hat = predict_x0_from_eps(x_t, t, eps_model(x_t, t), _abar(betas))
    mean, var = posterior_mean_variance(x0_hat, x_t, t, betas)
    keep = _col((t != 0).to(betas.dtype), x_t)
    return mean + keep * var.sqrt() * noise


def training_loss(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    betas: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    noise = torch.empty_like(x0).normal_(generator=generator)
    t = torch.randint(len(betas), (x0.shape[0],), generator=generator, device=x0.device)
    x_t = q_sample(x0, t, noise, _abar(betas))
    return torch.nn.functional.mse_loss(eps_model(x_t, t), noise)
