"""Tests for the self_attention kata: GPT-2's CausalSelfAttention, judged by its outputs,
its gradients and the names of its parameters.

The oracle is torch.nn.MultiheadAttention in float64, loaded with the same weights and
given a causal mask; the module is loaded with seeded weights scaled so that every output is
of order one.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

# the learner's parameter -> the same tensor in nn.MultiheadAttention
ORACLE_NAMES = {
    "c_attn.weight": "in_proj_weight",
    "c_attn.bias": "in_proj_bias",
    "c_proj.weight": "out_proj.weight",
    "c_proj.bias": "out_proj.bias",
}


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def random_weights(seed: int, E: int, bias: bool = True) -> dict[str, torch.Tensor]:
    """Seeded float64 weights: N(0, 1/E) entries keep a unit-variance input at unit
    variance through each projection, and biases are of order one half."""
    gen = torch.Generator().manual_seed(seed)
    weights = {
        "c_attn.weight": randn(gen, 3 * E, E) / math.sqrt(E),
        "c_proj.weight": randn(gen, E, E) / math.sqrt(E),
    }
    if bias:
        weights["c_attn.bias"] = 0.5 * randn(gen, 3 * E)
        weights["c_proj.bias"] = 0.5 * randn(gen, E)
    return weights


def describe(E: int, H: int, bias: bool, x: torch.Tensor | None = None) -> str:
    """The construction and the call, as a reader would write them, for failure messages."""
    text = f"CausalSelfAttention({E}, {H}, bias={bias})"
    if x is None:
        return text
    kind = "" if x.is_contiguous() else "non-contiguous "
    dtype = str(x.dtype).removeprefix("torch.")
    return f"{text} on x {kind}{dtype} {tuple(x.shape)} ({x.device.type})"


def build(
    solution,
    E: int,
    H: int,
    weights: dict[str, torch.Tensor],
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
) -> nn.Module:
    """The learner's module, cast to dtype and device, with the given weights copied in."""
    __tracebackhide__ = True
    bias = "c_attn.bias" in weights
    module = solution.CausalSelfAttention(E, H, bias=bias).to(device=device, dtype=dtype)
    params = dict(module.named_parameters())
    for name, value in weights.items():
        assert name in params, (
            f"{describe(E, H, bias)} has no parameter {name}; its parameters are {sorted(params)}"
        )
        assert params[name].shape == value.shape, (
            f"{describe(E, H, bias)}: {name} has shape {tuple(params[name].shape)}, "
            f"expected {tuple(value.shape)}"
        )
        with torch.no_grad():
            params[name].copy_(value)
    return module


def oracle(E: int, H: int, weights: dict[str, torch.Tensor]) -> nn.MultiheadAttention:
    """nn.MultiheadAttention in float64 on the CPU, loaded with the same weights."""
    mha = nn.MultiheadAttention(
        E, H, bias="c_attn.bias" in weights, batch_first=True, dtype=torch.float64
    )
    mha.load_state_dict({ORACLE_NAMES[name]: w.to(torch.float64) for name, w in weights.items()})
    return mha


def expected(E: int, H: int, weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The oracle's output in float64 on the CPU."""
    T = x.shape[1]
    # nn.MultiheadAttention's boolean mask is True where a query may NOT attend: the
    # opposite of the kata catalog's convention. True above the diagonal = the future.
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    x = x.detach().cpu().to(torch.float64)
    out, _ = oracle(E, H, weights)(x, x, x, attn_mask=future, need_weights=False)
    return out.detach()


def seeded_x(seed: int, B: int, T: int, E: int) -> torch.Tensor:
    return randn(torch.Generator().manual_seed(seed), B, T, E)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    identity = {
        "c_attn.weight": torch.eye(2, dtype=torch.float64).repeat(3, 1),  # q = k = v = x
        "c_attn.bias": torch.zeros(6, dtype=torch.float64),
        "c_proj.weight": torch.eye(2, dtype=torch.float64),
        "c_proj.bias": torch.zeros(2, dtype=torch.float64),
    }
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    to_4_places = {"rtol": 0, "atol": 5e-5}
    readme = {
        2: [[1.0, 0.0], [0.5, 0.7311], [0.8446, 0.8446]],
        1: [[1.0, 0.0], [0.3302, 0.6698], [0.7517, 0.7517]],
    }
    for H, numbers in readme.items():
        module = build(solution, 2, H, identity)
        out = module(x)
        assert_close(
            out,
            torch.tensor([numbers], dtype=torch.float64),
            msg=lambda m, H=H: f"README example with num_heads={H}: {describe(2, H, True, x)}\n{m}",
            **to_4_places,
        )


# ---------------------------------------------------------------------------- the module


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_parameters_have_gpt2_names_and_shapes(solution, bias):
    E, H = 12, 3
    module = solution.CausalSelfAttention(E, H, bias=bias)
    call = describe(E, H, bias)
    assert isinstance(module, nn.Module), f"{call} is a {type(module).__name__}, not an nn.Module"
    for name, (n_in, n_out) in {"c_attn": (E, 3 * E), "c_proj": (E, E)}.items():
        layer = getattr(module, name, None)
        assert isinstance(layer, nn.Linear), f"{call}.{name} should be an nn.Linear, got {layer!r}"
        assert (layer.in_features, layer.out_features) == (n_in, n_out), (
            f"{call}.{name} maps {layer.in_features} -> {layer.out_features} features, "
            f"expected {n_in} -> {n_out}"
        )
    want = {"c_attn.weight": (3 * E, E), "c_proj.weight": (E, E)}
    if bias:
        want |= {"c_attn.bias": (3 * E,), "c_proj.bias": (E,)}
    got = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    assert got == want, (
        f"{call}: state_dict holds {got}, expected exactly {want} (keep any cached mask "
        f"out of it with register_buffer(..., persistent=False))"
    )
    params = sorted(name for name, _ in module.named_parameters())
    assert params == sorted(want), f"{call} has parameters {params}, expected {sorted(want)}"


@pytest.mark.parametrize(
    ("E", "H"), [(10, 3), (6, 4), (4, 8), (7, 2)], ids=["10-by-3", "6-by-4", "4-by-8", "7-by-2"]
)
def test_an_embed_dim_that_is_not_a_multiple_of_num_heads_raises_a_value_error(solution, E, H):
    call = describe(E, H, True)
    with pytest.raises(ValueError) as info:
        solution.CausalSelfAttention(E, H)
    message = str(info.value)
    assert re.search(rf"\b{E}\b", message) and re.search(rf"\b{H}\b", message), (
        f"{call} raised ValueError({message!r}); the message should name {E} and {H}"
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("device", DEVICES)
def test_the_output_matches_multihead_attention_with_the_same_weights(solution, device, bias):
    B, T, E, H = 2, 7, 12, 3
    weights = random_weights(1, E, bias)
    x = seeded_x(2, B, T, E).to(device)
    out = build(solution, E, H, weights, device=device)(x)
    want = expected(E, H, weights, x).to(device)
    assert_close(out, want, msg=lambda m: f"{describe(E, H, bias, x)}: output\n{m}")


def test_the_thirds_of_c_attn_are_queries_keys_and_values_in_that_order(solution):
    """Two crafted weightings whose answers need no oracle: with the values' third of c_attn
    zero, every token's output is c_proj's bias; with the keys' third zero (so every key is
    the same), each token weighs tokens 0..t equally and outputs the mean of their values."""
    B, T, E, H = 2, 6, 8, 2
    x = seeded_x(3, B, T, E)
    weights = random_weights(4, E)

    no_values = dict(weights)
    no_values["c_attn.weight"] = weights["c_attn.weight"].clone()
    no_values["c_attn.weight"][2 * E :] = 0
    no_values["c_attn.bias"] = weights["c_attn.bias"].clone()
    no_values["c_attn.bias"][2 * E :] = 0
    out = build(solution, E, H, no_values)(x)
    assert_close(
        out,
        no_values["c_proj.bias"].expand(B, T, E),
        msg=lambda m: (
            f"{describe(E, H, True, x)} with rows 2E..3E-1 of c_attn (the values) zero: every "
            f"output should be c_proj.bias, since v = 0\n{m}"
        ),
    )

    equal_keys = dict(weights)
    equal_keys["c_attn.weight"] = weights["c_attn.weight"].clone()
    equal_keys["c_attn.weight"][E : 2 * E] = 0  # k = the keys' bias, the same for every token
    equal_keys["c_proj.weight"] = torch.eye(E, dtype=torch.float64)
    equal_keys["c_proj.bias"] = torch.zeros(E, dtype=torch.float64)
    v = x @ weights["c_attn.weight"][2 * E :].T + weights["c_attn.bias"][2 * E :]  # (B, T, E)
    means = v.cumsum(dim=1) / torch.arange(1, T + 1, dtype=torch.float64)[:, None]
    out = build(solution, E, H, equal_keys)(x)
    assert_close(
        out,
        means,
        msg=lambda m: (
            f"{describe(E, H, True, x)} with rows E..2E-1 of c_attn (the keys) zero and c_proj "
            f"the identity: every key is equal, so token t should output the mean of the "
            f"values of tokens 0..t\n{m}"
        ),
    )


def test_a_single_token_attends_to_itself_alone(solution):
    B, T, E, H = 3, 1, 8, 4
    weights = random_weights(5, E)
    x = seeded_x(6, B, T, E)
    out = build(solution, E, H, weights)(x)
    v = x @ weights["c_attn.weight"][2 * E :].T + weights["c_attn.bias"][2 * E :]
    want = v @ weights["c_proj.weight"].T + weights["c_proj.bias"]
    assert_close(
        out, want, msg=lambda m: f"{describe(E, H, True, x)}: expected c_proj(v), T = 1\n{m}"
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32], ids=["float16", "bfloat16", "float32"]
)
def test_a_module_cast_to_a_lower_precision_keeps_it(solution, dtype, device):
    B, T, E, H = 2, 6, 16, 4
    weights = {name: w.to(dtype) for name, w in random_weights(7, E).items()}
    x = seeded_x(8, B, T, E).to(device=device, dtype=dtype)
    out = build(solution, E, H, weights, dtype=dtype, device=device)(x)
    call = describe(E, H, True, x)
    assert out.dtype == dtype and out.device == x.device, (
        f"{call} returned {out.dtype} on {out.device}; expected {dtype} on {x.device}"
    )
    want = expected(E, H, weights, x).to(device=device, dtype=dtype)
    assert_close(out, want, msg=lambda m: f"{call}: output\n{m}", **tolerance(dtype))


def test_the_input_is_left_unchanged(solution):
    weights = random_weights(9, 8)
    x = seeded_x(10, 2, 5, 8)
    before = x.clone()
    build(solution, 8, 2, weights)(x)
    assert torch.equal(x, before), f"{describe(8, 2, True, x)} modified its input x"


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_of_x_and_every_parameter_match_multihead_attention(solution, device, bias):
    B, T, E, H = 2, 5, 8, 2
    weights = random_weights(11, E, bias)
    x = seeded_x(12, B, T, E)
    upstream = seeded_x(13, B, T, E)
    call = describe(E, H, bias, x.to(device))

    mha = oracle(E, H, weights)
    x_ref = x.clone().requires_grad_()
    future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = masked, for nn.MHA
    out, _ = mha(x_ref, x_ref, x_ref, attn_mask=future, need_weights=False)
    (out * upstream).sum().backward()
    oracle_params = dict(mha.named_parameters())
    want = {name: oracle_params[ORACLE_NAMES[name]].grad for name in weights}
    want["x"] = x_ref.grad

    module = build(solution, E, H, weights, device=device)
    x_dev = x.to(device).requires_grad_()
    (module(x_dev) * upstream.to(device)).sum().backward()
    got = {name: p.grad for name, p in module.named_parameters() if name in weights}
    got["x"] = x_dev.grad
    for name, w in want.items():
        assert got.get(name) is not None, f"{call}: no gradient reached {name}"
        assert_close(
            got[name], w.to(device), msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}"
        )


def test_the_output_at_position_t_depends_on_the_tokens_up_to_t_only(solution):
    B, T, E, H = 2, 6, 8, 2
    module = build(solution, E, H, random_weights(14, E))
    x = seeded_x(15, B, T, E).requires_grad_()
    out = module(x)
    call = describe(E, H, True, x)
    for t in range(T):
        (grad,) = torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)
        seen = grad.abs().sum(dim=(0, 2))  # (T,): how much out[:, t] moves with each token
        future = [s for s in range(t + 1, T) if seen[s] != 0]
        assert not future, (
            f"{call}: out[:, {t}] has a nonzero gradient with respect to x[:, s] for s in "
            f"{future}; token {t} must not see later tokens"
        )
        unseen = [s for s in range(t + 1) if seen[s] == 0]
        assert not unseen, (
            f"{call}: out[:, {t}] has a zero gradient with respect to x[:, s] for s in "
            f"{unseen}; token {t} must see every token 0..{t}"
        )


# ---------------------------------------------------------------------------- properties


@settings(max_examples=30)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 7),
    H=st.integers(1, 4),
    D=st.integers(1, 4),
    bias=st.booleans(),
    transposed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_drawn_batches_lengths_and_head_counts_match_multihead_attention(
    solution, B, T, H, D, bias, transposed, seed
):
    E = H * D
    weights = random_weights(seed, E, bias)
    x = seeded_x(seed + 1, B, T, E)
    if transposed:  # the same values, laid out as a transposed view
        x = x.transpose(1, 2).contiguous().transpose(1, 2)
    out = build(solution, E, H, weights)(x)
    assert_close(
        out, expected(E, H, weights, x), msg=lambda m: f"{describe(E, H, bias, x)}: output\n{m}"
    )
