"""Tests for the ddpm kata: schedules, the forward process, the posterior, a reverse step, the loss.

Oracles are written here in float64 from the papers: the schedules from their formulas, the
closed-form forward process against single noising steps iterated (compared by moments),
the posterior by Bayes' rule as a product of two Gaussians (not by DDPM's coefficients).
Every draw is seeded and the data are of order one.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

F64 = torch.float64
LOW_PRECISION = [torch.float16, torch.bfloat16, torch.float32]
DTYPE_IDS = ["float16", "bfloat16", "float32"]


# ---------------------------------------------------------------------------- helpers


def randn(seed: int, *shape: int, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64).to(dtype)


def short_betas(T: int = 10) -> torch.Tensor:
    """A short schedule with large betas, so that every step matters: 0.05 .. 0.5."""
    return torch.tensor([0.05 + 0.05 * i for i in range(T)], dtype=F64)


def cumprod_by_loop(betas: torch.Tensor) -> torch.Tensor:
    """abar_t = prod_{s <= t} (1 - beta_s), one multiplication at a time, in float64."""
    out, running = [], 1.0
    for beta in betas.tolist():
        running *= 1.0 - beta
        out.append(running)
    return torch.tensor(out, dtype=F64)


def column(values: list[float] | torch.Tensor, ndim: int) -> torch.Tensor:
    """(B,) values as (B, 1, ..., 1) with ndim dims."""
    return torch.as_tensor(values, dtype=F64).reshape(-1, *([1] * (ndim - 1)))


def bayes_posterior(
    x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """q(x_{t-1} | x_t, x0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x0), as a product of Gaussians in
    x_{t-1}: N(x_t; sqrt(alpha_t) x_{t-1}, beta_t) × N(x_{t-1}; sqrt(abar_{t-1}) x0,
    1 - abar_{t-1}). Precisions add, and the mean is the precision-weighted average of the
    two means in x_{t-1}'s units. At t = 0 x_{t-1} is x0 itself: mean x0, variance 0."""
    abar = cumprod_by_loop(betas).tolist()
    means, variances = [], []
    for i, step in enumerate(t.tolist()):
        beta = float(betas[step])
        if step == 0:
            means.append(x0[i].to(F64))
            variances.append(0.0)
            continue
        alpha, abar_prev = 1.0 - beta, abar[step - 1]
        precision_step = alpha / beta  # from x_t = sqrt(alpha) x_{t-1} + noise of var beta
        precision_prior = 1.0 / (1.0 - abar_prev)
        variance = 1.0 / (precision_step + precision_prior)
        mean = variance * (
            math.sqrt(alpha) / beta * x_t[i].to(F64)
            + math.sqrt(abar_prev) / (1.0 - abar_prev) * x0[i].to(F64)
        )
        means.append(mean)
        variances.append(variance)
    return torch.stack(means), column(variances, x0.ndim)


def oracle_eps_model(x0: torch.Tensor, abar: torch.Tensor):
    """An eps-model that knows x0: from x_t it returns exactly the noise that made it."""

    def eps_model(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = abar.to(x_t.device)[t].reshape(-1, *([1] * (x_t.ndim - 1)))
        return ((x_t.to(F64) - a.sqrt() * x0.to(F64)) / (1 - a).sqrt()).to(x_t.dtype)

    return eps_model


def as_variance_of(variance: torch.Tensor, x: torch.Tensor, call: str) -> torch.Tensor:
    """The variance broadcast to x's shape, after checking that it broadcasts."""
    # by hand: torch.broadcast_shapes costs a second of imports on its first call
    fits = variance.ndim <= x.ndim and all(
        v in (1, n) for v, n in zip(reversed(variance.shape), reversed(x.shape), strict=False)
    )
    assert fits, (
        f"{call} returned a variance of shape {tuple(variance.shape)}, which does not "
        f"broadcast against x_t {tuple(x.shape)}; expected (B, 1, ..., 1)"
    )
    return variance.expand(x.shape)


SHAPES = {"B,D": (4, 3), "B,C,H,W": (4, 2, 3, 2)}
T_PER_SAMPLE = torch.tensor([0, 3, 9, 5])  # different timesteps in one batch, ends included


# ---------------------------------------------------------------------------- worked example


def test_the_worked_example_of_the_readme(solution):
    betas = solution.linear_beta_schedule(5, beta_start=0.1, beta_end=0.5)
    assert_close(betas, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=F64), atol=1e-12)
    abar = torch.tensor([0.9, 0.72, 0.504, 0.3024, 0.1512], dtype=F64)
    x0 = torch.tensor([[1.0, -2.0]], dtype=F64)
    t, noise = torch.tensor([1]), torch.tensor([[0.5, 1.0]], dtype=F64)
    x_t = solution.q_sample(x0, t, noise, abar)
    assert_close(x_t, torch.tensor([[1.113103, -1.167906]], dtype=F64), rtol=0, atol=1e-6)
    mean, variance = solution.posterior_mean_variance(x0, x_t, t, betas)
    assert_close(mean, torch.tensor([[1.033199, -1.728336]], dtype=F64), rtol=0, atol=1e-6)
    assert_close(variance.expand(1, 2), torch.full((1, 2), 0.071429, dtype=F64), rtol=0, atol=1e-6)
    z = torch.tensor([[1.0, -1.0]], dtype=F64)
    step = solution.p_sample_step(lambda x, t: noise, x_t, t, betas, z)
    assert_close(step, torch.tensor([[1.300460, -1.995597]], dtype=F64), rtol=0, atol=1e-6)
    last = solution.p_sample_step(lambda x, t: noise, x_t, torch.tensor([0]), betas, z)
    assert_close(last, torch.tensor([[1.006647, -1.564414]], dtype=F64), rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("T", "start", "end"), [(1000, 1e-4, 0.02), (7, 0.1, 0.4), (2, 0.3, 0.6), (1, 0.3, 0.6)]
)
def test_the_linear_schedule_is_evenly_spaced_from_start_to_end(solution, T, start, end):
    call = f"linear_beta_schedule({T}, beta_start={start}, beta_end={end})"
    betas = solution.linear_beta_schedule(T, beta_start=start, beta_end=end)
    want = torch.tensor([start + (end - start) * i / max(T - 1, 1) for i in range(T)], dtype=F64)
    assert_close(betas, want, rtol=1e-12, atol=1e-15, msg=lambda m: f"{call}\n{m}")


def test_the_linear_schedule_defaults_are_the_ddpm_papers(solution):
    betas = solution.linear_beta_schedule(1000)
    want = torch.tensor([1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)], dtype=F64)
    assert_close(
        betas, want, rtol=1e-12, atol=1e-15, msg=lambda m: f"linear_beta_schedule(1000)\n{m}"
    )


def cosine_by_formula(T: int, s: float) -> torch.Tensor:
    def f(u: int) -> float:
        return math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2

    abar = [f(u) / f(0) for u in range(T + 1)]
    return torch.tensor([min(1 - abar[i + 1] / abar[i], 0.999) for i in range(T)], dtype=F64)


@pytest.mark.parametrize(("T", "s"), [(1000, 0.008), (10, 0.008), (4, 0.1), (1, 0.008)])
def test_the_cosine_schedule_follows_nichol_and_dhariwal(solution, T, s):
    call = f"cosine_beta_schedule({T}, s={s})"
    betas = solution.cosine_beta_schedule(T, s=s)
    assert_close(
        betas, cosine_by_formula(T, s), rtol=1e-9, atol=1e-12, msg=lambda m: f"{call}\n{m}"
    )


def test_the_cosine_default_offset_is_0_008(solution):
    assert_close(
        solution.cosine_beta_schedule(50), cosine_by_formula(50, 0.008), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("T", [10, 1000])
def test_the_cosine_schedule_is_clipped_at_0_999_and_increasing(solution, T):
    betas = solution.cosine_beta_schedule(T)
    assert float(betas.max()) <= 0.999 and float(betas[-1]) == pytest.approx(0.999, abs=1e-12), (
        f"cosine_beta_schedule({T}): the last beta is {float(betas[-1])!r}; abar(T) is about 0, "
        "so 1 - abar(T)/abar(T-1) is about 1, and it must be clipped to 0.999"
    )
    assert bool((betas > 0).all()) and bool((betas[1:] >= betas[:-1]).all()), (
        f"cosine_beta_schedule({T}) is not positive and increasing: {betas[:5].tolist()} ..."
    )


# ---------------------------------------------------------------------------- forward process


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_q_sample_matches_the_closed_form_with_a_timestep_per_sample(solution, shape, device):
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x0, noise = randn(1, *shape), randn(2, *shape)
    a = column(abar[T_PER_SAMPLE], len(shape))
    want = a.sqrt() * x0 + (1 - a).sqrt() * noise
    call = f"q_sample(x0 {shape}, t={T_PER_SAMPLE.tolist()}, noise, alphas_cumprod) on {device}"
    got = solution.q_sample(
        x0.to(device), T_PER_SAMPLE.to(device), noise.to(device), abar.to(device)
    )
    assert_close(got, want.to(device), msg=lambda m: f"{call}\n{m}")


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=DTYPE_IDS)
def test_q_sample_keeps_the_dtype_of_x0(solution, dtype):
    abar = cumprod_by_loop(short_betas())
    x0, noise = randn(3, 4, 3, dtype=dtype), randn(4, 4, 3, dtype=dtype)
    a = column(abar[T_PER_SAMPLE], 2)
    want = a.sqrt() * x0.to(F64) + (1 - a).sqrt() * noise.to(F64)
    got = solution.q_sample(x0, T_PER_SAMPLE, noise, abar)
    call = f"q_sample(x0 {dtype} (4, 3), t, noise, float64 alphas_cumprod)"
    assert_close(got, want.to(dtype), **tolerance(dtype), msg=lambda m: f"{call}\n{m}")


def test_q_sample_has_the_moments_of_iterated_single_noising_steps(solution):
    """x_t from one closed-form jump and x_t from t + 1 single steps
    x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps_s must share their distribution.
    Both are drawn N = 20000 times per coordinate; the means and variances are compared with
    a bound of 5.5 standard errors each (8 comparisons: false-failure rate below 1e-6)."""
    betas, N, step = short_betas(), 20_000, 4
    abar = cumprod_by_loop(betas)
    x0 = torch.tensor([1.5, -1.0, 0.5, 2.0], dtype=F64)
    gen = torch.Generator().manual_seed(5)
    iterated = x0.expand(N, 4)
    for s in range(step + 1):
        eps = torch.randn((N, 4), generator=gen, dtype=F64)
        iterated = (1 - betas[s]).sqrt() * iterated + betas[s].sqrt() * eps
    noise = torch.randn((N, 4), generator=gen, dtype=F64)
    jumped = solution.q_sample(x0.expand(N, 4), torch.full((N,), step), noise, abar)
    var = 1 - abar[step]
    mean_gap = (jumped.mean(0) - iterated.mean(0)).abs()
    mean_bound = 5.5 * math.sqrt(2 * var / N)
    assert bool((mean_gap < mean_bound).all()), (
        f"q_sample(x0={x0.tolist()}, t={step}): the sample mean differs from that of {step + 1} "
        f"single noising steps by {mean_gap.tolist()} (bound {mean_bound:.3g}); expected "
        f"sqrt(abar_t) * x0 = {(abar[step].sqrt() * x0).tolist()}"
    )
    var_gap = (jumped.var(0) - iterated.var(0)).abs()
    var_bound = 5.5 * math.sqrt(2) * var * math.sqrt(2 / (N - 1))
    assert bool((var_gap < var_bound).all()), (
        f"q_sample(x0, t={step}): the sample variance differs from that of {step + 1} single "
        f"noising steps by {var_gap.tolist()} (bound {var_bound:.3g}); expected "
        f"1 - abar_t = {float(var):.4f}"
    )


def test_predict_x0_from_eps_inverts_q_sample(solution):
    abar = cumprod_by_loop(short_betas())
    x0, noise = randn(6, 4, 2, 3, 2), randn(7, 4, 2, 3, 2)
    a = column(abar[T_PER_SAMPLE], 4)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    got = solution.predict_x0_from_eps(x_t, T_PER_SAMPLE, noise, abar)
    call = f"predict_x0_from_eps(q_sample(x0, t, eps), t={T_PER_SAMPLE.tolist()}, eps)"
    assert_close(got, x0, msg=lambda m: f"{call}: expected x0 back\n{m}")


@settings(max_examples=30)
@given(
    dims=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    B=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_drawn_shapes_and_timesteps_round_trip_through_q_sample(solution, dims, B, seed):
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    shape = (B, *dims)
    x0, noise = randn(seed, *shape), randn(seed + 1, *shape)
    t = torch.randint(0, 10, (B,), generator=torch.Generator().manual_seed(seed + 2))
    a = column(abar[t], len(shape))
    call = f"q_sample(x0 {shape}, t={t.tolist()}, noise, alphas_cumprod)"
    x_t = solution.q_sample(x0, t, noise, abar)
    assert_close(x_t, a.sqrt() * x0 + (1 - a).sqrt() * noise, msg=lambda m: f"{call}\n{m}")
    back = solution.predict_x0_from_eps(x_t, t, noise, abar)
    assert_close(back, x0, msg=lambda m: f"predict_x0_from_eps after {call}\n{m}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [*LOW_PRECISION, F64], ids=[*DTYPE_IDS, "float64"])
def test_predict_x0_from_eps_keeps_the_dtype_and_device_of_x_t(solution, dtype, device):
    abar = cumprod_by_loop(short_betas())
    x_t, eps = randn(8, 4, 3, dtype=dtype), randn(9, 4, 3, dtype=dtype)
    a = column(abar[T_PER_SAMPLE], 2)
    want = (x_t.to(F64) - (1 - a).sqrt() * eps.to(F64)) / a.sqrt()
    got = solution.predict_x0_from_eps(
        x_t.to(device), T_PER_SAMPLE.to(device), eps.to(device), abar.to(device)
    )
    call = f"predict_x0_from_eps(x_t {dtype} (4, 3), t, eps, alphas_cumprod) on {device}"
    # dividing by sqrt(abar_9) ~ 0.24 amplifies the rounding of x_t fourfold
    tol = {k: 4 * v for k, v in tolerance(dtype).items()}
    assert_close(got, want.to(dtype=dtype, device=device), **tol, msg=lambda m: f"{call}\n{m}")


def test_q_sample_passes_gradients_to_x0_and_noise(solution):
    abar = cumprod_by_loop(short_betas())
    x0, noise = randn(10, 4, 3).requires_grad_(), randn(11, 4, 3).requires_grad_()
    upstream = randn(12, 4, 3)
    x_t = solution.q_sample(x0, T_PER_SAMPLE, noise, abar)
    grads = torch.autograd.grad((x_t * upstream).sum(), [x0, noise], allow_unused=True)
    a = column(abar[T_PER_SAMPLE], 2)
    for name, got, want in zip(
        ("x0", "noise"), grads, (a.sqrt() * upstream, (1 - a).sqrt() * upstream), strict=True
    ):
        assert got is not None, f"q_sample(x0, t, noise, alphas_cumprod) ignores {name}"
        assert_close(got, want, msg=lambda m, name=name: f"gradient of q_sample for {name}\n{m}")


# ---------------------------------------------------------------------------- posterior


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_posterior_matches_bayes_rule(solution, shape, device):
    betas = short_betas()
    x0, x_t = randn(12, *shape), randn(13, *shape)
    want_mean, want_var = bayes_posterior(x0, x_t, T_PER_SAMPLE, betas)
    call = f"posterior_mean_variance(x0 {shape}, x_t, t={T_PER_SAMPLE.tolist()}, betas) on {device}"
    mean, variance = solution.posterior_mean_variance(
        x0.to(device), x_t.to(device), T_PER_SAMPLE.to(device), betas.to(device)
    )
    assert_close(mean, want_mean.to(device), msg=lambda m: f"{call}: mean\n{m}")
    assert variance.dtype == F64 and variance.device == x_t.to(device).device, (
        f"{call}: the variance is {variance.dtype} on {variance.device}; "
        f"expected float64 on {device}"
    )
    got_var = as_variance_of(variance, x_t, call)
    assert_close(
        got_var.cpu(),
        want_var.expand(shape),
        rtol=1e-9,
        atol=1e-12,
        msg=lambda m: f"{call}: variance (beta tilde; 0 at t = 0)\n{m}",
    )


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=DTYPE_IDS)
def test_the_posterior_keeps_the_dtype_of_x_t(solution, dtype):
    betas = short_betas()
    x0, x_t = randn(14, 4, 3, dtype=dtype), randn(15, 4, 3, dtype=dtype)
    want_mean, want_var = bayes_posterior(x0, x_t, T_PER_SAMPLE, betas)
    mean, variance = solution.posterior_mean_variance(x0, x_t, T_PER_SAMPLE, betas)
    call = f"posterior_mean_variance(x0 {dtype}, x_t {dtype}, t, float64 betas)"
    tol = tolerance(dtype)
    assert_close(mean, want_mean.to(dtype), **tol, msg=lambda m: f"{call}: mean\n{m}")
    got_var = as_variance_of(variance, x_t, call)
    assert_close(
        got_var, want_var.expand(4, 3).to(dtype), **tol, msg=lambda m: f"{call}: variance\n{m}"
    )


def test_the_posterior_with_the_default_linear_schedule(solution):
    betas = torch.tensor([1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)], dtype=F64)
    t = torch.tensor([0, 1, 500, 999])
    x0, x_t = randn(16, 4, 5), randn(17, 4, 5)
    want_mean, want_var = bayes_posterior(x0, x_t, t, betas)
    mean, variance = solution.posterior_mean_variance(x0, x_t, t, betas)
    call = f"posterior_mean_variance(x0, x_t, t={t.tolist()}, linear betas of T = 1000)"
    assert_close(mean, want_mean, rtol=1e-6, atol=1e-8, msg=lambda m: f"{call}: mean\n{m}")
    got_var = as_variance_of(variance, x_t, call)
    assert_close(
        got_var,
        want_var.expand(4, 5),
        rtol=1e-6,
        atol=1e-12,
        msg=lambda m: f"{call}: variance\n{m}",
    )


# ---------------------------------------------------------------------------- reverse step


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_reverse_step_with_an_oracle_model_samples_the_posterior(solution, shape, device):
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x0, noise, z = randn(18, *shape), randn(19, *shape), randn(20, *shape)
    a = column(abar[T_PER_SAMPLE], len(shape))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    want_mean, want_var = bayes_posterior(x0, x_t, T_PER_SAMPLE, betas)
    want = want_mean + want_var.sqrt() * z  # variance 0 at t = 0: no noise there
    call = (
        f"p_sample_step(oracle eps_model, x_t {shape}, t={T_PER_SAMPLE.tolist()}, betas, noise) "
        f"on {device}"
    )
    got = solution.p_sample_step(
        oracle_eps_model(x0.to(device), abar),
        x_t.to(device),
        T_PER_SAMPLE.to(device),
        betas.to(device),
        z.to(device),
    )
    assert_close(
        got,
        want.to(device),
        msg=lambda m: f"{call}: expected the posterior mean + sqrt(beta tilde) * noise\n{m}",
    )


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=DTYPE_IDS)
def test_a_reverse_step_keeps_the_dtype_of_x_t(solution, dtype):
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x_t, eps, z = (
        randn(21, 4, 3, dtype=dtype),
        randn(22, 4, 3, dtype=dtype),
        randn(23, 4, 3, dtype=dtype),
    )
    a = column(abar[T_PER_SAMPLE], 2)
    x0_hat = (x_t.to(F64) - (1 - a).sqrt() * eps.to(F64)) / a.sqrt()
    mean, var = bayes_posterior(x0_hat, x_t.to(F64), T_PER_SAMPLE, betas)
    want = mean + var.sqrt() * z.to(F64)
    got = solution.p_sample_step(lambda x, t: eps, x_t, T_PER_SAMPLE, betas, z)
    call = f"p_sample_step(eps_model, x_t {dtype} (4, 3), t, float64 betas, noise)"
    tol = {k: 4 * v for k, v in tolerance(dtype).items()}  # x0_hat amplifies rounding
    assert_close(got, want.to(dtype), **tol, msg=lambda m: f"{call}\n{m}")


def test_the_last_reverse_step_adds_no_noise(solution):
    betas = short_betas()
    x_t, eps = randn(24, 3, 4), randn(25, 3, 4)
    t = torch.zeros(3, dtype=torch.long)
    call = "p_sample_step(eps_model, x_t, t=[0, 0, 0], betas, noise)"
    first = solution.p_sample_step(lambda x, t: eps, x_t, t, betas, randn(26, 3, 4))
    second = solution.p_sample_step(lambda x, t: eps, x_t, t, betas, randn(27, 3, 4))
    assert_close(
        first, second, msg=lambda m: f"{call} depends on the noise; at t = 0 it must not\n{m}"
    )
    want = (x_t - (0.05**0.5) * eps) / (0.95**0.5)  # the predicted x0 itself
    assert_close(first, want, msg=lambda m: f"{call}: expected the predicted x0\n{m}")


def test_a_reverse_step_calls_the_model_with_x_t_and_t(solution):
    betas = short_betas()
    x_t, eps, z = randn(28, 4, 3), randn(29, 4, 3), randn(30, 4, 3)
    seen = []

    def eps_model(x, t):
        seen.append((x.clone(), t.clone()))
        return eps

    solution.p_sample_step(eps_model, x_t, T_PER_SAMPLE, betas, z)
    assert len(seen) == 1, f"p_sample_step called eps_model {len(seen)} times; expected once"
    assert torch.equal(seen[0][0], x_t) and torch.equal(seen[0][1], T_PER_SAMPLE), (
        "p_sample_step must call eps_model(x_t, t) with the x_t and t it was given"
    )


# ---------------------------------------------------------------------------- training loss


class Recorder(torch.nn.Module):
    """eps_model(x_t, t) = w * x_t with a learnable scalar w; records every x_t and t."""

    def __init__(self, w: float = 0.5, dtype: torch.dtype = F64) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w, dtype=dtype))
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls.append((x_t.detach().clone(), t.clone()))
        return self.w * x_t


def generator(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_an_oracle_model_has_zero_loss(solution, shape, device):
    betas = short_betas().to(device)
    x0 = randn(31, *shape).to(device)
    oracle = oracle_eps_model(x0, cumprod_by_loop(short_betas()))
    loss = solution.training_loss(oracle, x0, betas, generator=generator(32, device))
    assert loss.shape == () and loss.dtype == F64 and loss.device == x0.device, (
        f"training_loss returned {loss.dtype} {tuple(loss.shape)} on {loss.device}; expected "
        f"a 0-d float64 tensor on {device}"
    )
    assert float(loss) < 1e-20, (
        f"training_loss(oracle eps_model, x0 {shape}, betas) = {float(loss):.4g}; a model that "
        "returns exactly the noise must have zero loss (is the target the noise?)"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_the_loss_is_the_mean_squared_error_against_the_noise(solution, device):
    """The noise is recovered from the x_t and t the model saw, then the loss is recomputed."""
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x0 = randn(33, 6, 2, 3).to(device)
    model = Recorder().to(device)
    loss = solution.training_loss(model, x0, betas.to(device), generator=generator(34, device))
    assert len(model.calls) == 1, (
        f"training_loss called eps_model {len(model.calls)} times; expected once"
    )
    x_t, t = (v.cpu() for v in model.calls[0])
    assert t.shape == (6,) and t.dtype == torch.int64, (
        f"training_loss called eps_model with t {t.dtype} {tuple(t.shape)}; expected int64 (6,)"
    )
    a = column(abar[t], 3)
    noise = (x_t - a.sqrt() * x0.cpu()) / (1 - a).sqrt()
    want = ((0.5 * x_t - noise) ** 2).mean()
    assert_close(
        loss.cpu(),
        want,
        msg=lambda m: (
            f"training_loss(eps_model, x0 (6, 2, 3), betas) on {device}: expected "
            f"mean((eps_model(x_t, t) - noise)^2), with x_t = q_sample(x0, t, noise)\n{m}"
        ),
    )


def test_the_loss_draws_timesteps_uniformly_and_standard_normal_noise(solution):
    """Over 40 calls of a batch of 100, t must cover 0..9 evenly (chi-square) and the noise
    behind x_t must have mean 0 and variance 1 (bounds of 5.5 standard errors)."""
    from dojo.checks import chi_square

    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x0 = randn(35, 100, 3)
    model = Recorder()
    gen = generator(36)
    for _ in range(40):
        solution.training_loss(model, x0, betas, generator=gen)
    ts = torch.cat([t for _, t in model.calls])
    assert int(ts.min()) >= 0 and int(ts.max()) <= 9, (
        f"training_loss drew t outside [0, 10): from {int(ts.min())} to {int(ts.max())}"
    )
    counts = torch.bincount(ts, minlength=10)[None]
    p, stat, df = chi_square(counts, torch.full((1, 10), 0.1, dtype=F64))
    assert p > 1e-6, (
        f"training_loss drew t with counts {counts[0].tolist()} over 0..9; expected uniform "
        f"(chi-square {stat:.1f} on {df} degrees of freedom, p = {p:.2g})"
    )
    noises = []
    for x_t, t in model.calls:
        a = column(abar[t], 2)
        noises.append((x_t - a.sqrt() * x0) / (1 - a).sqrt())
    noise = torch.cat(noises).flatten()
    n = noise.numel()
    assert abs(float(noise.mean())) < 5.5 / math.sqrt(n) and abs(
        float(noise.var()) - 1
    ) < 5.5 * math.sqrt(2 / n), (
        f"the noise behind training_loss's x_t has mean {float(noise.mean()):.4f} and variance "
        f"{float(noise.var()):.4f} over {n} draws; expected N(0, 1)"
    )


def test_the_loss_follows_the_generator(solution):
    betas = short_betas()
    x0 = randn(37, 8, 3)
    model = Recorder()
    first = solution.training_loss(model, x0, betas, generator=generator(38))
    again = solution.training_loss(model, x0, betas, generator=generator(38))
    other = solution.training_loss(model, x0, betas, generator=generator(39))
    assert torch.equal(first, again), (
        f"training_loss with two generators seeded 38 gave {float(first)} and {float(again)}; "
        "expected the same loss (draw t and the noise with the generator)"
    )
    assert not torch.equal(first, other), (
        "training_loss gave the same loss for the seeds 38 and 39: does it use the generator?"
    )
    torch.manual_seed(0)
    unseeded = solution.training_loss(model, x0, betas)
    assert unseeded.shape == (), "training_loss(generator=None) must still return a 0-d loss"


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_the_loss_is_a_scalar_with_gradients_for_the_model(solution, dtype):
    betas = short_betas()
    x0 = randn(40, 5, 4, dtype=dtype)
    model = Recorder(dtype=dtype)
    loss = solution.training_loss(model, x0, betas, generator=generator(41))
    assert loss.shape == () and loss.dtype == dtype, (
        f"training_loss(eps_model, x0 {dtype} (5, 4), betas) returned {loss.dtype} "
        f"{tuple(loss.shape)}; expected a 0-d {dtype} tensor"
    )
    (grad,) = torch.autograd.grad(loss, [model.w])
    x_t, t = model.calls[0]
    a = column(cumprod_by_loop(betas)[t], 2).to(dtype)
    noise = (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    want = (2 * (model.w.detach() * x_t - noise) * x_t).mean()  # d/dw mean((w x_t - noise)^2)
    assert_close(
        grad,
        want,
        **tolerance(dtype),
        msg=lambda m: f"the gradient of training_loss with respect to the model's parameter\n{m}",
    )


def test_the_inputs_are_left_unchanged(solution):
    betas = short_betas()
    abar = cumprod_by_loop(betas)
    x0, noise, z = randn(42, 4, 3), randn(43, 4, 3), randn(44, 4, 3)
    t = T_PER_SAMPLE.clone()
    inputs = {"x0": x0, "noise": noise, "z": z, "t": t, "betas": betas, "abar": abar}
    before = {name: v.clone() for name, v in inputs.items()}
    x_t = solution.q_sample(x0, t, noise, abar)
    x_t_before = x_t.clone()
    solution.predict_x0_from_eps(x_t, t, noise, abar)
    solution.posterior_mean_variance(x0, x_t, t, betas)
    solution.p_sample_step(lambda x, t: noise, x_t, t, betas, z)
    solution.training_loss(Recorder(), x0, betas, generator=generator(45))
    for name, value in inputs.items():
        assert torch.equal(value, before[name]), f"a ddpm function modified its input {name}"
    assert torch.equal(x_t, x_t_before), "a ddpm function modified its input x_t"
