"""Tests for the rope kata: the cos/sin tables, rotate_half, and apply_rope.

The oracle is RoPE's complex-number form, written out below in float64: the pair
(x[..., i], x[..., i + D/2]) is the complex number x[..., i] + i·x[..., i + D/2], and
position p multiplies it by e^{i·p·θ_i}, θ_i = base^(-2i/D). Where the solution's own
float32 tables are used, the tolerance admits their rounding (Llama computes them in
float32 too). Every draw is seeded.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def thetas(head_dim: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = base^(-2i / head_dim) for i < head_dim / 2, in float64."""
    return torch.tensor([base ** (-2 * i / head_dim) for i in range(head_dim // 2)])


def exact_tables(head_dim: int, max_len: int, base: float = 10000.0):
    """(cos, sin), (max_len, head_dim), in float64: the rotate-half layout, each frequency
    in column i and again in column i + head_dim/2."""
    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * thetas(head_dim, base)
    angles = angles.repeat(1, 2)  # [θ_0..θ_{D/2-1}, θ_0..θ_{D/2-1}]
    return angles.cos(), angles.sin()


def rotated(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """RoPE by complex multiplication in float64: x (..., T, D), positions (T,)."""
    x = x.detach().cpu().to(torch.float64)
    D = x.shape[-1]
    z = torch.complex(x[..., : D // 2], x[..., D // 2 :])  # (..., T, D/2)
    angles = positions.cpu().to(torch.float64)[:, None] * thetas(D, base)  # (T, D/2)
    z = z * torch.polar(torch.ones_like(angles), angles)
    return torch.cat([z.real, z.imag], dim=-1)


def table_tolerance(max_len: int) -> dict[str, float]:
    """float32 tables lose about max_len * 6e-8 in angles of up to max_len radians."""
    return {"rtol": 0.0, "atol": 1e-6 + 2e-7 * max_len}


def output_tolerance(dtype: torch.dtype, max_pos: int) -> dict[str, float]:
    """apply_rope with the solution's float32 tables on inputs of order one."""
    if dtype in (torch.float16, torch.bfloat16):
        return tolerance(dtype)
    return {"rtol": 1e-5, "atol": 1e-5 + 2e-6 * max_pos}


def shape_of(t: torch.Tensor) -> str:
    kind = "" if t.is_contiguous() else "non-contiguous "
    where = "" if t.device.type == "cpu" else f" on {t.device}"
    return f"{kind}{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}{where}"


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


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    to_6_places = {"rtol": 0, "atol": 5e-7}
    cos, sin = solution.rope_cos_sin(4, 3)
    assert_close(
        cos,
        torch.tensor(
            [
                [1.0, 1, 1, 1],
                [0.540302, 0.999950, 0.540302, 0.999950],
                [-0.416147, 0.999800, -0.416147, 0.999800],
            ]
        ),
        msg=lambda m: f"rope_cos_sin(4, 3): cos is not the README's\n{m}",
        **to_6_places,
    )
    assert_close(
        sin,
        torch.tensor(
            [
                [0.0, 0, 0, 0],
                [0.841471, 0.010000, 0.841471, 0.010000],
                [0.909297, 0.019999, 0.909297, 0.019999],
            ]
        ),
        msg=lambda m: f"rope_cos_sin(4, 3): sin is not the README's\n{m}",
        **to_6_places,
    )
    x = torch.tensor([[[[1.0, 2, 3, 4], [1, 2, 3, 4]]]])
    assert_close(
        solution.apply_rope(x, cos, sin),
        torch.tensor([[[[1.0, 2, 3, 4], [-1.984111, 1.959901, 2.462378, 4.019800]]]]),
        msg=lambda m: f"apply_rope([1, 2, 3, 4] at positions 0 and 1): not the README's\n{m}",
        **to_6_places,
    )


# ---------------------------------------------------------------------------- the tables


TABLE_CASES = {
    "D=8": (8, 20, 10000.0),
    "D=2": (2, 9, 10000.0),
    "D=64-long": (64, 512, 10000.0),
    "base-500000": (16, 40, 500000.0),
    "base-10": (6, 13, 10.0),
    "one-position": (12, 1, 10000.0),
}


@pytest.mark.parametrize("case", TABLE_CASES.values(), ids=TABLE_CASES.keys())
def test_the_tables_match_the_formula_in_the_rotate_half_layout(solution, case):
    head_dim, max_len, base = case
    call = f"rope_cos_sin({head_dim}, {max_len}, base={base})"
    result = solution.rope_cos_sin(head_dim, max_len, base=base)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{call} should return a tuple (cos, sin), got {type(result).__name__}"
    )
    want_cos, want_sin = exact_tables(head_dim, max_len, base)
    for name, got, want in (("cos", result[0], want_cos), ("sin", result[1], want_sin)):
        assert_close(
            got,
            want.float(),
            msg=lambda m, name=name: (
                f"{call}: {name} should be float32 (max_len, head_dim), "
                f"angle pos·base^(-2i/head_dim) in columns i and i + head_dim/2\n{m}"
            ),
            **table_tolerance(max_len),
        )


def test_the_base_defaults_to_10000(solution):
    cos, sin = solution.rope_cos_sin(10, 30)
    want_cos, want_sin = exact_tables(10, 30)
    for name, got, want in (("cos", cos, want_cos), ("sin", sin, want_sin)):
        assert_close(
            got,
            want.float(),
            msg=lambda m, name=name: f"rope_cos_sin(10, 30) without a base: {name}\n{m}",
            **table_tolerance(30),
        )


def test_the_second_half_of_each_table_repeats_the_first(solution):
    cos, sin = solution.rope_cos_sin(12, 25)
    for name, table in (("cos", cos), ("sin", sin)):
        assert torch.equal(table[:, :6], table[:, 6:]), (
            f"rope_cos_sin(12, 25): {name}[:, :6] and {name}[:, 6:] should be equal: the "
            "rotate-half layout repeats the frequencies (cat(angles, angles)), it does not "
            "interleave them"
        )


@pytest.mark.parametrize("head_dim", [1, 3, 9])
def test_an_odd_head_dim_raises_a_value_error_everywhere(solution, head_dim):
    check_raises_value_error(
        lambda: solution.rope_cos_sin(head_dim, 8),
        f"rope_cos_sin({head_dim}, 8)",
        str(head_dim),
    )
    x = torch.zeros(1, 2, 3, head_dim)
    check_raises_value_error(lambda: solution.rotate_half(x), f"rotate_half(x of {x.shape})")
    tables = torch.ones(8, head_dim), torch.zeros(8, head_dim)
    check_raises_value_error(
        lambda: solution.apply_rope(x, *tables), f"apply_rope(x of {tuple(x.shape)}, ...)"
    )


# ---------------------------------------------------------------------------- rotate_half


@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 5, 8)], ids=["1-d", "2-d", "4-d"])
def test_rotate_half_negates_the_second_half_and_swaps_the_halves(solution, shape):
    x = randn(torch.Generator().manual_seed(1), *shape)
    half = shape[-1] // 2
    want = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    assert_close(
        solution.rotate_half(x),
        want,
        msg=lambda m: f"rotate_half(x of {shape}): expected cat(-x2, x1)\n{m}",
    )
    assert_close(
        solution.rotate_half(solution.rotate_half(x)),
        -x,
        msg=lambda m: f"rotate_half applied twice to x of {shape} should give -x\n{m}",
    )


# ---------------------------------------------------------------------------- apply_rope


SHAPES = {
    "B-H-T-D": (2, 3, 7, 8),
    "one-row": (1, 1, 1, 4),
    "D=2": (2, 2, 5, 2),
    "D=32": (1, 2, 9, 32),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_apply_rope_matches_complex_multiplication_with_exact_tables(solution, shape):
    x = randn(torch.Generator().manual_seed(2), *shape)
    T, D = shape[-2], shape[-1]
    cos, sin = exact_tables(D, 16)
    assert_close(
        solution.apply_rope(x, cos, sin),
        rotated(x, torch.arange(T)),
        msg=lambda m: (
            f"apply_rope(x float64 {shape}, exact float64 tables): expected the pair "
            f"(x[..., i], x[..., i + D/2]) rotated by position·θ_i\n{m}"
        ),
    )


@pytest.mark.parametrize("base", [10000.0, 100.0])
def test_apply_rope_with_its_own_tables_matches_complex_multiplication(solution, base):
    x = randn(torch.Generator().manual_seed(3), 2, 2, 40, 16)
    cos, sin = solution.rope_cos_sin(16, 64, base=base)
    assert_close(
        solution.apply_rope(x, cos, sin),
        rotated(x, torch.arange(40), base),
        msg=lambda m: (
            f"apply_rope(x float64 (2, 2, 40, 16), *rope_cos_sin(16, 64, base={base}))\n{m}"
        ),
        **output_tolerance(torch.float64, 64),
    )


def test_given_positions_choose_the_rows_of_the_tables(solution):
    x = randn(torch.Generator().manual_seed(4), 2, 3, 6, 8)
    positions = torch.tensor([5, 0, 17, 17, 2, 30])
    cos, sin = exact_tables(8, 32)
    assert_close(
        solution.apply_rope(x, cos, sin, positions=positions),
        rotated(x, positions),
        msg=lambda m: (
            f"apply_rope(x (2, 3, 6, 8), positions={positions.tolist()}): row t "
            f"should be rotated by positions[t]·θ_i\n{m}"
        ),
    )


@pytest.mark.parametrize(("t0", "T"), [(0, 5), (7, 1), (12, 4)])
def test_a_slice_at_an_offset_equals_the_slice_of_the_full_application(solution, t0, T):
    """Decoding with a cache: the new tokens of positions t0..t0+T-1 alone."""
    x = randn(torch.Generator().manual_seed(5), 2, 2, 16, 8)
    cos, sin = solution.rope_cos_sin(8, 16)
    full = solution.apply_rope(x, cos, sin)
    part = solution.apply_rope(x[:, :, t0 : t0 + T], cos, sin, positions=torch.arange(t0, t0 + T))
    assert_close(
        part,
        full[:, :, t0 : t0 + T],
        msg=lambda m: (
            f"apply_rope(x[:, :, {t0}:{t0 + T}], positions=arange({t0}, {t0 + T})) "
            f"should equal apply_rope(x)[:, :, {t0}:{t0 + T}]\n{m}"
        ),
    )


def test_position_zero_is_the_identity(solution):
    x = randn(torch.Generator().manual_seed(6), 2, 3, 5, 8)
    cos, sin = solution.rope_cos_sin(8, 10)
    assert_close(
        solution.apply_rope(x, cos, sin, positions=torch.zeros(5, dtype=torch.long)),
        x,
        msg=lambda m: f"apply_rope(x, positions=[0, 0, 0, 0, 0]) should return x\n{m}",
    )
    assert_close(
        solution.apply_rope(x, cos, sin)[:, :, 0],
        x[:, :, 0],
        msg=lambda m: f"apply_rope(x) without positions: row 0 is position 0, unchanged\n{m}",
    )


def test_every_pair_keeps_its_norm(solution):
    D = 12
    x = randn(torch.Generator().manual_seed(7), 2, 2, 50, D)
    cos, sin = solution.rope_cos_sin(D, 50)
    out = solution.apply_rope(x, cos, sin)

    def pair_norm(t: torch.Tensor) -> torch.Tensor:
        return t[..., : D // 2] ** 2 + t[..., D // 2 :] ** 2

    assert_close(
        pair_norm(out),
        pair_norm(x),
        rtol=1e-5,
        atol=1e-5,
        msg=lambda m: (
            "apply_rope(x (2, 2, 50, 12)): each pair (x[..., i], x[..., i + 6]) "
            f"is rotated, so its squared norm must not change\n{m}"
        ),
    )


@settings(max_examples=30)
@given(
    half=st.integers(1, 8),
    m=st.integers(0, 40),
    n=st.integers(0, 40),
    shift=st.integers(0, 20),
    seed=st.integers(0, 2**16),
)
def test_scores_depend_only_on_the_distance_between_positions(solution, half, m, n, shift, seed):
    """<R_m q, R_n k> = <R_(m+s) q, R_(n+s) k>, and both equal the complex oracle's."""
    D = 2 * half
    gen = torch.Generator().manual_seed(seed)
    q, k = randn(gen, 1, 1, 1, D), randn(gen, 1, 1, 1, D)
    cos, sin = solution.rope_cos_sin(D, 64)

    def score(a: int, b: int) -> torch.Tensor:
        rq = solution.apply_rope(q, cos, sin, positions=torch.tensor([a]))
        rk = solution.apply_rope(k, cos, sin, positions=torch.tensor([b]))
        return (rq * rk).sum()

    want = (rotated(q, torch.tensor([m])) * rotated(k, torch.tensor([n]))).sum()
    tol = {"rtol": 1e-4, "atol": 1e-4}
    assert_close(
        score(m, n),
        want,
        msg=lambda msg: f"<R_{m} q, R_{n} k> with head_dim {D}: not the oracle's score\n{msg}",
        **tol,
    )
    assert_close(
        score(m + shift, n + shift),
        score(m, n),
        msg=lambda msg: (
            f"<R_{m + shift} q, R_{n + shift} k> should equal <R_{m} q, R_{n} k> "
            f"(head_dim {D}): RoPE scores depend on m - n only\n{msg}"
        ),
        **tol,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_the_result_has_the_dtype_and_device_of_x(solution, device, dtype):
    x = randn(torch.Generator().manual_seed(8), 2, 3, 10, 16).to(device=device, dtype=dtype)
    cos, sin = (t.to(device) for t in solution.rope_cos_sin(16, 12))
    call = f"apply_rope(x {shape_of(x)}, float32 tables)"
    assert_close(
        solution.apply_rope(x, cos, sin),
        rotated(x, torch.arange(10)).to(device=device, dtype=dtype),
        msg=lambda m: f"{call}: expected x's dtype and device\n{m}",
        **output_tolerance(dtype, 12),
    )
    assert_close(
        solution.rotate_half(x),
        torch.cat([-x[..., 8:], x[..., :8]], dim=-1),
        msg=lambda m: f"rotate_half(x {shape_of(x)})\n{m}",
    )
    positions = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], device=device)
    assert_close(
        solution.apply_rope(x, cos, sin, positions=positions),
        rotated(x, positions).to(device=device, dtype=dtype),
        msg=lambda m: f"{call} with positions {positions.tolist()}\n{m}",
        **output_tolerance(dtype, 12),
    )


def test_a_transposed_view_works_as_queries_come_from_a_projection(solution):
    B, T, H, D = 2, 6, 3, 8
    x = randn(torch.Generator().manual_seed(9), B, T, H, D).transpose(1, 2)  # (B, H, T, D)
    cos, sin = exact_tables(D, T)
    assert_close(
        solution.apply_rope(x, cos, sin),
        rotated(x, torch.arange(T)),
        msg=lambda m: f"apply_rope(x {shape_of(x)}, exact tables)\n{m}",
    )


def test_the_gradient_of_x_is_the_upstream_gradient_rotated_back(solution):
    """A rotation's transpose is its inverse: d<out, g>/dx = R_{-p} g."""
    x = randn(torch.Generator().manual_seed(10), 2, 2, 4, 6).requires_grad_()
    upstream = randn(torch.Generator().manual_seed(11), 2, 2, 4, 6)
    cos, sin = exact_tables(6, 8)
    positions = torch.tensor([2, 7, 0, 3])
    out = solution.apply_rope(x, cos, sin, positions=positions)
    (grad,) = torch.autograd.grad((out * upstream).sum(), x)
    assert_close(
        grad,
        rotated(upstream, -positions),
        msg=lambda m: (
            "apply_rope(x (2, 2, 4, 6), exact tables, positions=[2, 7, 0, 3]): the "
            f"gradient of x should be the upstream gradient rotated by -positions\n{m}"
        ),
    )


def test_the_inputs_are_left_unchanged(solution):
    x = randn(torch.Generator().manual_seed(12), 2, 2, 5, 8)
    cos, sin = exact_tables(8, 8)
    before = [t.clone() for t in (x, cos, sin)]
    solution.apply_rope(x, cos, sin)
    solution.rotate_half(x)
    for name, now, then in zip(("x", "cos", "sin"), (x, cos, sin), before, strict=True):
        assert torch.equal(now, then), f"apply_rope or rotate_half modified its input {name}"


def test_tables_for_another_head_dim_raise_a_value_error(solution):
    x = torch.zeros(1, 2, 3, 8)
    cos, sin = exact_tables(6, 10)
    check_raises_value_error(
        lambda: solution.apply_rope(x, cos, sin),
        "apply_rope(x with head_dim 8, tables of rope_cos_sin(6, 10))",
        "8",
        "6",
    )


def test_more_rows_than_max_len_without_positions_raise_a_value_error(solution):
    x = torch.zeros(1, 2, 12, 8)
    cos, sin = exact_tables(8, 10)
    check_raises_value_error(
        lambda: solution.apply_rope(x, cos, sin),
        "apply_rope(x with T = 12, tables with max_len = 10)",
        "12",
        "10",
    )
