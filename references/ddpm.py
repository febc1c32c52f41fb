"""DDPM (Ho et al., 2020): noise schedules, the forward process, the posterior, one reverse
step and the simple training loss.

Conventions shared by every function:
    Timesteps are 0-indexed: t = 0 is the first noising step and t = T - 1 the last, so
    betas[t] is the paper's beta_{t+1}. alphas = 1 - betas, alphas_cumprod[t] =
    prod(alphas[: t + 1]) (written abar_t), and abar_{-1} = 1 (nothing noised yet).
    t is a LongTensor (B,) on x's device, one timestep per sample; every per-timestep
    coefficient is gathered at t and reshaped to (B, 1, ..., 1) so that it broadcasts over
    x's other dims: x may be (B, D), (B, C, H, W) or any (B, ...).
    Schedules (betas, alphas_cumprod) are 1-D float tensors of length T on x's device,
    float64 as the schedule functions return them. Results have x's dtype and device:
    compute the coefficients in the schedule's dtype, then cast them to x's dtype.
    The inputs are left unchanged.

Do not use: diffusers (nor any other diffusion library's schedulers).
"""

import math
from collections.abc import Callable

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """The DDPM paper's schedule: T betas evenly spaced from beta_start to beta_end.

        betas[t] = beta_start + (beta_end - beta_start) * t / (T - 1),   t = 0 .. T-1

    Args:
        T: the number of diffusion steps, T >= 1 (T = 1 gives [beta_start]).
        beta_start, beta_end: the first and the last beta, 0 < beta < 1.

    Returns:
        betas: (T,) float64 on the CPU.
    """
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def cosine_beta_schedule(T: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's (2021) cosine schedule.

        f(u)    = cos^2( (u / T + s) / (1 + s) * pi / 2 ),   u = 0 .. T
        abar(u) = f(u) / f(0)
        betas[t] = min(1 - abar(t + 1) / abar(t), 0.999),     t = 0 .. T-1 (0-indexed)

    The last beta would be 1 (abar(T) is about 0); the clip at 0.999 keeps it below 1.

    Args:
        T: the number of diffusion steps, T >= 1.
        s: the small offset that keeps the first betas from being too small.

    Returns:
        betas: (T,) float64 on the CPU, increasing, every entry in (0, 0.999].
    """
    u = torch.arange(T + 1, dtype=torch.float64)  # (T+1,)
    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2
    alphas_cumprod = f / f[0]  # abar(0) = 1
    betas = 1 - alphas_cumprod[1:] / alphas_cumprod[:-1]  # (T,)
    return betas.clamp(max=0.999)


def _per_sample(coef: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (B,) coefficient reshaped to (B, 1, ..., 1), so that it broadcasts against x, in
    x's dtype (computed in the schedule's dtype first)."""
    return coef.reshape(-1, *([1] * (x.ndim - 1))).to(x.dtype)


def q_sample(
    x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """Sample x_t from q(x_t | x_0) in closed form, given the noise:

        x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise

    Args:
        x0: (B, ...) clean data, a floating dtype.
        t: (B,) int64 timesteps in [0, T), one per sample.
        noise: (B, ...) like x0, standard normal draws.
        alphas_cumprod: (T,) abar_t, on x0's device.

    Returns:
        x_t: (B, ...) with x0's dtype and device.
    """
    abar = alphas_cumprod[t]  # (B,)
    return _per_sample(abar.sqrt(), x0) * x0 + _per_sample((1 - abar).sqrt(), x0) * noise


def predict_x0_from_eps(
    x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """Invert q_sample for x0, given the noise (or a model's prediction of it):

        x0 = (x_t - sqrt(1 - abar_t) * eps) / sqrt(abar_t)

    Args:
        x_t: (B, ...) noisy data, a floating dtype.
        t: (B,) int64 timesteps in [0, T).
        eps: (B, ...) like x_t, the noise.
        alphas_cumprod: (T,) abar_t, on x_t's device.

    Returns:
        x0: (B, ...) with x_t's dtype and device.
    """
    abar = alphas_cumprod[t]  # (B,)
    return (x_t - _per_sample((1 - abar).sqrt(), x_t) * eps) / _per_sample(abar.sqrt(), x_t)


def posterior_mean_variance(
    x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Gaussian posterior q(x_{t-1} | x_t, x_0) = N(mean, variance):

        mean     = beta_t sqrt(abar_{t-1}) / (1 - abar_t) * x0
                   + (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t) * x_t
        variance = (1 - abar_{t-1}) / (1 - abar_t) * beta_t        (beta tilde)

    with abar_{-1} = 1, so at t = 0 the mean is x0 and the variance is 0.

    Args:
        x0: (B, ...) clean data (or a prediction of it), a floating dtype.
        x_t: (B, ...) like x0, the noisy data at step t.
        t: (B,) int64 timesteps in [0, T).
        betas: (T,) the schedule, on x_t's device.

    Returns:
        (mean, variance): mean (B, ...) like x_t; variance (B, 1, ..., 1), one per sample,
        broadcastable against x_t (a full (B, ...) tensor is accepted too). Both have x_t's
        dtype and device.
    """
    alphas = 1 - betas  # (T,)
    abar = torch.cumprod(alphas, dim=0)  # (T,)
    abar_prev = torch.cat([abar.new_ones(1), abar[:-1]])  # (T,), abar_{-1} = 1
    beta, alpha, a, a_prev = betas[t], alphas[t], abar[t], abar_prev[t]  # (B,) each
    coef_x0 = beta * a_prev.sqrt() / (1 - a)
    coef_xt = (1 - a_prev) * alpha.sqrt() / (1 - a)
    variance = (1 - a_prev) / (1 - a) * beta
    mean = _per_sample(coef_x0, x_t) * x0 + _per_sample(coef_xt, x_t) * x_t
    return mean, _per_sample(variance, x_t)


def p_sample_step(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x_t: torch.Tensor,
    t: torch.Tensor,
    betas: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """One reverse (ancestral sampling) step, x_t -> x_{t-1}:

        eps        = eps_model(x_t, t)
        x0_hat     = predict_x0_from_eps(x_t, t, eps, alphas_cumprod)   (not clipped)
        mean, var  = posterior_mean_variance(x0_hat, x_t, t, betas)
        x_{t-1}    = mean + sqrt(var) * noise,   and just the mean where t == 0

    Args:
        eps_model: called once, as eps_model(x_t, t), returning (B, ...) like x_t.
        x_t: (B, ...) the current sample, a floating dtype.
        t: (B,) int64 timesteps in [0, T); they may differ between samples.
        betas: (T,) the schedule, on x_t's device.
        noise: (B, ...) like x_t, standard normal draws (ignored where t == 0).

    Returns:
        x_{t-1}: (B, ...) with x_t's dtype and device.
    """
    abar = torch.cumprod(1 - betas, dim=0)  # (T,)
    eps = eps_model(x_t, t)
    x0_hat = predict_x0_from_eps(x_t, t, eps, abar)
    mean, variance = posterior_mean_variance(x0_hat, x_t, t, betas)
    noisy = (t > 0).reshape(-1, *([1] * (x_t.ndim - 1)))  # (B, 1, ..., 1)
    return torch.where(noisy, mean + variance.sqrt() * noise, mean)


def training_loss(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    betas: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The simple DDPM loss: the mean squared error of the predicted noise.

        t     ~ uniform on {0, ..., T-1}, one per sample
        noise ~ N(0, I), shaped like x0
        x_t   = q_sample(x0, t, noise, alphas_cumprod)
        loss  = mean over every element of (eps_model(x_t, t) - noise)^2

    Args:
        eps_model: called once, as eps_model(x_t, t) with t (B,) int64, returning (B, ...).
        x0: (B, ...) a batch of clean data, a floating dtype.
        betas: (T,) the schedule, on x0's device.
        generator: a torch.Generator on x0's device for every random draw (t and the
            noise), or None for torch's global generator. The same seed gives the same
            loss; the order of the two draws is yours to choose.

    Returns:
        loss: a 0-d tensor with x0's dtype and device, differentiable with respect to
        eps_model's parameters.
    """
    B, T = x0.shape[0], betas.shape[0]
    t = torch.randint(0, T, (B,), generator=generator, device=x0.device)  # (B,)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    x_t = q_sample(x0, t, noise, torch.cumprod(1 - betas, dim=0))
    return ((eps_model(x_t, t) - noise) ** 2).mean()
