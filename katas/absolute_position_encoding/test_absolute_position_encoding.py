"""Tests for the absolute_position_encoding kata: the sinusoidal table, the module that adds
it as a buffer, and the learned table that is a parameter.

The oracle is the paper's formula, written out below in float64. The learned table's
initialisation is judged by its statistics over 65536 draws, never by reproducing torch's
random stream. Every other draw is seeded.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def formula(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """pe[pos, 2i] = sin(pos / base^(2i/d)), pe[pos, 2i+1] = cos(...), element by element in
    float64."""
    inv_freqs = [1.0 / base ** (2 * i / d_model) for i in range(d_model // 2)]
    rows = [
        [f(pos * inv_freq) for inv_freq in inv_freqs for f in (math.sin, math.cos)]
        for pos in range(max_len)
    ]
    return torch.tensor(rows, dtype=torch.float64).reshape(max_len, d_model)


def table_tolerance(max_len: int) -> dict[str, float]:
    """float32 arithmetic loses about max_len * 1e-7 in angles of up to max_len radians."""
    return {"rtol": 0.0, "atol": 1e-6 + 5e-7 * max_len}


def module_tolerance(dtype: torch.dtype, T: int) -> dict[str, float]:
    """x + pe[:T] with a float32 pe: the dtype's own tolerance, never tighter than float32's."""
    tol = tolerance(dtype) if dtype in (torch.float16, torch.bfloat16) else tolerance(torch.float32)
    return {"rtol": tol["rtol"], "atol": tol["atol"] + 5e-7 * T}


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def shape_of(t: torch.Tensor) -> str:
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


def raised_by(call) -> BaseException | None:
    try:
        call()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


def check_raises_value_error(call, what: str, *words: str) -> None:
    __tracebackhide__ = True
    exc = raised_by(call)
    assert exc is not None, f"{what} returned normally; expected ValueError"
    assert isinstance(exc, ValueError), (
        f"{what} raised {type(exc).__name__}: {exc}; expected ValueError"
    )
    assert all(w in str(exc) for w in words), (
        f"{what} raised ValueError({str(exc)!r}); the message should name {', '.join(words)}"
    )


def load_table(module: torch.nn.Module, seed: int) -> torch.Tensor:
    """Overwrite the learned pe with seeded N(0, 1) draws; return them in float64."""
    values = randn(torch.Generator().manual_seed(seed), *module.pe.shape)
    with torch.no_grad():
        module.pe.copy_(values)
    return module.pe.detach().cpu().double()


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    pe = solution.sinusoidal_position_encoding(3, 4)
    want = torch.tensor(
        [
            [0.0, 1.0, 0.0, 1.0],
            [0.841471, 0.540302, 0.010000, 0.999950],
            [0.909297, -0.416147, 0.019999, 0.999800],
        ]
    )
    assert_close(
        pe,
        want,
        rtol=0,
        atol=5e-7,
        msg=lambda m: f"sinusoidal_position_encoding(3, 4): not the README's table\n{m}",
    )


# ---------------------------------------------------------------------------- the table


TABLE_CASES = {
    "50x16": (50, 16, 10000.0),
    "one-pair": (7, 2, 10000.0),
    "d=10-base-100": (33, 10, 100.0),
    "one-position": (1, 8, 10000.0),
    "d=6-base-2": (12, 6, 2.0),
    "d=64": (128, 64, 10000.0),
}


@pytest.mark.parametrize("case", TABLE_CASES.values(), ids=TABLE_CASES.keys())
def test_the_table_matches_the_formula_in_float64(solution, case):
    max_len, d_model, base = case
    call = f"sinusoidal_position_encoding({max_len}, {d_model}, base={base})"
    pe = solution.sinusoidal_position_encoding(max_len, d_model, base=base)
    assert isinstance(pe, torch.Tensor), f"{call} returned {type(pe).__name__}, not a Tensor"
    assert_close(
        pe,
        formula(max_len, d_model, base).float(),
        msg=lambda m: (
            f"{call}: expected float32 (max_len, d_model) with sin(pos / "
            f"base^(2i/d_model)) in column 2i and cos in column 2i+1\n{m}"
        ),
        **table_tolerance(max_len),
    )


def test_the_base_defaults_to_10000(solution):
    assert_close(
        solution.sinusoidal_position_encoding(40, 12),
        formula(40, 12, 10000.0).float(),
        msg=lambda m: f"sinusoidal_position_encoding(40, 12) without a base\n{m}",
        **table_tolerance(40),
    )


def test_a_long_table_stays_accurate(solution):
    max_len, d_model = 5000, 8
    pe = solution.sinusoidal_position_encoding(max_len, d_model)
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    angles = pos / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    want = torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(max_len, d_model)
    assert_close(
        pe,
        want.float(),
        msg=lambda m: f"sinusoidal_position_encoding({max_len}, {d_model})\n{m}",
        **table_tolerance(max_len),
    )


def test_row_zero_is_sin_0_cos_0_interleaved(solution):
    pe = solution.sinusoidal_position_encoding(4, 8)
    assert_close(
        pe[0],
        torch.tensor([0.0, 1, 0, 1, 0, 1, 0, 1]),
        msg=lambda m: (
            "sinusoidal_position_encoding(4, 8)[0]: position 0 has every angle 0, "
            f"so sin (even columns) is 0 and cos (odd columns) is 1\n{m}"
        ),
    )


def test_each_column_pair_lies_on_the_unit_circle(solution):
    pe = solution.sinusoidal_position_encoding(20, 12).double()
    assert_close(
        pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2,
        torch.ones(20, 6, dtype=torch.float64),
        rtol=0,
        atol=1e-6,
        msg=lambda m: (
            "sinusoidal_position_encoding(20, 12): columns 2i and 2i+1 should be the "
            f"sin and cos of one angle, so pe[:, 2i]² + pe[:, 2i+1]² = 1\n{m}"
        ),
    )


@settings(max_examples=30)
@given(
    max_len=st.integers(1, 40),
    half=st.integers(1, 12),
    base=st.floats(2.0, 1e5, allow_nan=False),
)
def test_drawn_sizes_and_bases_match_the_formula(solution, max_len, half, base):
    d_model = 2 * half
    call = f"sinusoidal_position_encoding({max_len}, {d_model}, base={base})"
    assert_close(
        solution.sinusoidal_position_encoding(max_len, d_model, base=base),
        formula(max_len, d_model, base).float(),
        msg=lambda m: f"{call}\n{m}",
        **table_tolerance(max_len),
    )


# ---------------------------------------------------------------------------- odd d_model


@pytest.mark.parametrize("d_model", [1, 3, 7])
def test_an_odd_d_model_raises_a_value_error_everywhere(solution, d_model):
    check_raises_value_error(
        lambda: solution.sinusoidal_position_encoding(10, d_model),
        f"sinusoidal_position_encoding(10, {d_model})",
        str(d_model),
    )
    check_raises_value_error(
        lambda: solution.SinusoidalPositionEncoding(d_model, max_len=10),
        f"SinusoidalPositionEncoding({d_model}, max_len=10)",
    )
    check_raises_value_error(
        lambda: solution.LearnablePositionEncoding(d_model, 10),
        f"LearnablePositionEncoding({d_model}, 10)",
    )


# ---------------------------------------------------------------------------- the sinusoidal module


def test_the_sinusoidal_module_keeps_pe_as_a_buffer_not_a_parameter(solution):
    module = solution.SinusoidalPositionEncoding(16, max_len=30)
    call = "SinusoidalPositionEncoding(16, max_len=30)"
    params = [name for name, _ in module.named_parameters()]
    assert params == [], f"{call} has parameters {params}; pe must be a buffer, not a parameter"
    buffers = dict(module.named_buffers())
    assert list(buffers) == ["pe"], f"{call} has buffers {list(buffers)}; expected exactly ['pe']"
    assert list(module.state_dict()) == ["pe"], (
        f"{call}.state_dict() has keys {list(module.state_dict())}; expected exactly ['pe'] "
        "(register the buffer as persistent)"
    )
    assert not buffers["pe"].requires_grad, f"{call}: the buffer pe should not require grad"
    assert_close(
        buffers["pe"],
        formula(30, 16).float(),
        msg=lambda m: f"{call}.pe should be float32 (max_len, d_model), the table itself\n{m}",
        **table_tolerance(30),
    )


def test_the_sinusoidal_module_has_a_default_max_len_of_5000(solution):
    module = solution.SinusoidalPositionEncoding(8)
    assert tuple(module.pe.shape) == (5000, 8), (
        f"SinusoidalPositionEncoding(8).pe has shape {tuple(module.pe.shape)}; expected (5000, 8)"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_sinusoidal_module_adds_the_table_to_every_batch_element(solution, device, dtype):
    B, T, d_model, max_len = 3, 9, 10, 20
    module = solution.SinusoidalPositionEncoding(d_model, max_len=max_len).to(device)
    x = randn(torch.Generator().manual_seed(1), B, T, d_model).to(device=device, dtype=dtype)
    call = f"SinusoidalPositionEncoding({d_model}, max_len={max_len}) on x {shape_of(x)}"
    want = x.detach().cpu().double() + formula(T, d_model)
    assert_close(
        module(x),
        want.to(device=device, dtype=dtype),
        msg=lambda m: f"{call}: expected x + pe[:T] with x's dtype and device\n{m}",
        **module_tolerance(dtype, T),
    )


@pytest.mark.parametrize("which", ["SinusoidalPositionEncoding", "LearnablePositionEncoding"])
def test_the_input_is_left_unchanged(solution, which):
    module = getattr(solution, which)(4, 10)
    x = randn(torch.Generator().manual_seed(13), 2, 6, 4).float()
    before = x.clone()
    module(x)
    assert torch.equal(x, before), f"{which}(4, 10) modified its input x (x += pe in place?)"


def test_the_sinusoidal_module_passes_the_gradient_straight_to_x(solution):
    module = solution.SinusoidalPositionEncoding(6, max_len=8)
    x = randn(torch.Generator().manual_seed(2), 2, 5, 6).requires_grad_()
    upstream = randn(torch.Generator().manual_seed(3), 2, 5, 6)
    (grad,) = torch.autograd.grad((module(x) * upstream).sum(), x)
    assert_close(
        grad,
        upstream,
        msg=lambda m: f"SinusoidalPositionEncoding: d(x + pe)/dx is the identity\n{m}",
    )


def test_the_sinusoidal_module_accepts_exactly_max_len_positions(solution):
    module = solution.SinusoidalPositionEncoding(4, max_len=6)
    x = randn(torch.Generator().manual_seed(4), 1, 6, 4).float()
    assert_close(
        module(x),
        (x.double() + formula(6, 4)).float(),
        msg=lambda m: f"SinusoidalPositionEncoding(4, max_len=6) on a sequence of 6\n{m}",
        **module_tolerance(torch.float32, 6),
    )


@pytest.mark.parametrize("which", ["SinusoidalPositionEncoding", "LearnablePositionEncoding"])
def test_a_sequence_longer_than_max_len_raises_a_value_error(solution, which):
    module = getattr(solution, which)(4, 6)
    x = torch.zeros(2, 7, 4)
    check_raises_value_error(
        lambda: module(x), f"{which}(4, 6) on a sequence of length 7", "7", "6"
    )


# ---------------------------------------------------------------------------- the learnable module


def test_the_learnable_module_keeps_pe_as_a_parameter(solution):
    module = solution.LearnablePositionEncoding(12, 40)
    call = "LearnablePositionEncoding(12, 40)"
    params = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert params == {"pe": (40, 12)}, (
        f"{call} has parameters {params}; expected exactly pe (max_len, d_model) = (40, 12)"
    )
    assert module.pe.requires_grad and module.pe.dtype == torch.float32, (
        f"{call}.pe should be a float32 parameter that requires grad, got {module.pe.dtype}"
    )
    buffers = [name for name, _ in module.named_buffers()]
    assert buffers == [], f"{call} has buffers {buffers}; expected none"
    assert list(module.state_dict()) == ["pe"], (
        f"{call}.state_dict() has keys {list(module.state_dict())}; expected exactly ['pe']"
    )


def test_the_learnable_table_starts_as_normal_noise_with_std_0_02(solution):
    # 65536 draws: the standard error of the std is 5.5e-5 and of the mean 7.8e-5, so
    # the bounds below sit at more than ten standard errors.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        pe = solution.LearnablePositionEncoding(128, 512).pe.detach().double().flatten()
    call = "LearnablePositionEncoding(128, 512).pe"
    mean, std = pe.mean().item(), pe.std().item()
    assert abs(mean) < 1e-3, f"{call} has mean {mean:.4g}; expected N(0, 0.02²), mean 0"
    assert 0.019 < std < 0.021, f"{call} has std {std:.4g}; expected N(0, 0.02²), std 0.02"
    within = (pe.abs() < 0.02).double().mean().item()
    assert abs(within - 0.6827) < 0.015, (
        f"{call}: {within:.3f} of the entries lie within one std of 0; a normal puts 0.683 "
        "there (a uniform of the same std puts 0.577)"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_learnable_module_adds_its_table_to_every_batch_element(solution, device, dtype):
    B, T, d_model, max_len = 3, 7, 8, 12
    module = solution.LearnablePositionEncoding(d_model, max_len).to(device)
    table = load_table(module, seed=6)
    x = randn(torch.Generator().manual_seed(7), B, T, d_model).to(device=device, dtype=dtype)
    call = f"LearnablePositionEncoding({d_model}, {max_len}) on x {shape_of(x)}"
    want = x.detach().cpu().double() + table[:T]
    assert_close(
        module(x),
        want.to(device=device, dtype=dtype),
        msg=lambda m: f"{call}: expected x + pe[:T] with x's dtype and device\n{m}",
        **module_tolerance(dtype, 0),
    )


@pytest.mark.parametrize("device", DEVICES)
def test_the_gradient_reaches_only_the_rows_of_pe_that_were_used(solution, device):
    B, T, d_model, max_len = 3, 5, 6, 11
    module = solution.LearnablePositionEncoding(d_model, max_len).to(device=device)
    module = module.double()
    load_table(module, seed=8)
    x = randn(torch.Generator().manual_seed(9), B, T, d_model).to(device).requires_grad_()
    upstream = randn(torch.Generator().manual_seed(10), B, T, d_model).to(device)
    call = f"LearnablePositionEncoding({d_model}, {max_len}) on a sequence of {T}"
    grad_pe, grad_x = torch.autograd.grad(
        (module(x) * upstream).sum(), [module.pe, x], allow_unused=True
    )
    assert grad_pe is not None, f"{call}: no gradient reached the parameter pe"
    want = torch.zeros(max_len, d_model, dtype=torch.float64, device=device)
    want[:T] = upstream.sum(dim=0)
    assert_close(
        grad_pe,
        want,
        msg=lambda m: (
            f"{call}: rows 0..{T - 1} of pe should get the batch sum of the "
            f"upstream gradient and rows {T}..{max_len - 1} exactly zero\n{m}"
        ),
    )
    assert_close(grad_x, upstream, msg=lambda m: f"{call}: d(x + pe)/dx is the identity\n{m}")


def test_a_state_dict_moves_the_learned_table_to_a_new_module(solution):
    first = solution.LearnablePositionEncoding(6, 9)
    table = load_table(first, seed=11)
    second = solution.LearnablePositionEncoding(6, 9)
    second.load_state_dict(first.state_dict())
    x = randn(torch.Generator().manual_seed(12), 2, 9, 6).float()
    assert_close(
        second(x),
        (x.double() + table).float(),
        msg=lambda m: f"LearnablePositionEncoding after load_state_dict\n{m}",
        **module_tolerance(torch.float32, 0),
    )
