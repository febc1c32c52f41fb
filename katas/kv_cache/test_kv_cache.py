"""Tests for the kv_cache kata: cached decoding equals one full forward, whatever the chunks.

The oracle for the full forward is torch's nn.MultiheadAttention in float64 with the layer's
weights copied in and a causal mask; the oracle for the cache is the key and value
projections written out below. Every draw is seeded, and the weights are drawn so that the
attention scores, and the outputs, are of order one.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

F64 = torch.float64
TIGHT = {"rtol": 1e-10, "atol": 1e-10}  # float64 against float64: only the rounding differs


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=F64).to(dtype)


def make_layer(
    solution,
    E: int,
    H: int,
    bias: bool = True,
    seed: int = 0,
    dtype: torch.dtype = F64,
    device: str = "cpu",
) -> nn.Module:
    """The solution's layer with seeded weights of scale 1/sqrt(E), so that q, k and v have
    entries of order one for inputs of order one, and biases of order one half."""
    layer = solution.CachedCausalSelfAttention(E, H, bias=bias)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for linear in (layer.c_attn, layer.c_proj):
            linear.weight.copy_(randn(gen, *linear.weight.shape) * E**-0.5)
            if bias:
                linear.bias.copy_(randn(gen, *linear.bias.shape) * 0.5)
    return layer.to(device=device, dtype=dtype)


def shape(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}"


def describe(x: torch.Tensor, past=None) -> str:
    """The call, as a reader would write it, for failure messages."""
    if past is None:
        return f"layer(x {shape(x)})"
    return f"layer(x {shape(x)}, past_key_value=(k {shape(past[0])}, v {shape(past[1])}))"


def call(layer: nn.Module, x: torch.Tensor, past=None):
    """layer(x) or layer(x, past_key_value=past) -> (out, (k, v)); an error raised inside
    it fails the test with the call that raised, since every call made here is a valid one."""
    __tracebackhide__ = True
    try:
        result = layer(x) if past is None else layer(x, past_key_value=past)
    except NotImplementedError:
        raise
    except Exception as exc:  # a valid call must not raise
        pytest.fail(
            f"{describe(x, past)} raised {type(exc).__name__}: {exc}\nexpected out "
            f"(B, T, E) and the cache (k, v), each (B, H, T_past + T, D)"
        )
    assert isinstance(result, tuple) and len(result) == 2 and len(result[1]) == 2, (
        f"{describe(x, past)} returned {type(result).__name__}; expected (out, (k, v))"
    )
    return result


def decode(layer: nn.Module, x: torch.Tensor, chunks: list[int], past=None):
    """Feed x (B, T, E) to the layer chunk by chunk, passing each returned cache to the
    next call; return (the outputs joined along T, the final cache, every cache)."""
    outs, caches, start = [], [], 0
    for size in chunks:
        out, past = call(layer, x[:, start : start + size], past)
        outs.append(out)
        caches.append(past)
        start += size
    assert start == x.shape[1], "the test's chunks must cover the sequence"
    return torch.cat(outs, dim=1), past, caches


def oracle_mha(layer: nn.Module, E: int, H: int) -> nn.MultiheadAttention:
    """torch's multi-head attention in float64 on the CPU, with the layer's weights."""
    bias = layer.c_attn.bias is not None
    mha = nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=F64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(layer.c_attn.weight.detach().cpu())  # q, k, v rows, in order
        mha.out_proj.weight.copy_(layer.c_proj.weight.detach().cpu())
        if bias:
            mha.in_proj_bias.copy_(layer.c_attn.bias.detach().cpu())
            mha.out_proj.bias.copy_(layer.c_proj.bias.detach().cpu())
    return mha


def causal_mask(T: int) -> torch.Tensor:
    # nn.MultiheadAttention's boolean mask means True = may NOT attend: the future
    return torch.ones(T, T, dtype=torch.bool).triu(1)


def expected(
    layer: nn.Module, x: torch.Tensor, E: int, H: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(out (B, T, E), k, v (B, H, T, D)) in float64 on the CPU for the whole sequence x:
    out from nn.MultiheadAttention with a causal mask, k and v from c_attn's k and v rows,
    head h taking features h*D .. (h+1)*D - 1 (as nn.MultiheadAttention splits them)."""
    x = x.detach().cpu().to(F64)
    B, T, _ = x.shape
    mha = oracle_mha(layer, E, H)
    with torch.no_grad():
        out = mha(x, x, x, attn_mask=causal_mask(T), need_weights=False)[0]
        weight = layer.c_attn.weight.detach().cpu().to(F64)
        bias = layer.c_attn.bias
        bias = None if bias is None else bias.detach().cpu().to(F64)
        qkv = nn.functional.linear(x, weight, bias)
    k = qkv[..., E : 2 * E].reshape(B, T, H, E // H).transpose(1, 2)
    v = qkv[..., 2 * E :].reshape(B, T, H, E // H).transpose(1, 2)
    return out, k, v


def check_against_oracle(layer, x, E, H, out, cache, what: str, **tol) -> None:
    """Compare out and the final cache (k, v) for the whole of x with the float64 oracle,
    within the house tolerance for x's dtype unless rtol and atol are given."""
    __tracebackhide__ = True
    tol = tol or tolerance(x.dtype)
    want_out, want_k, want_v = expected(layer, x, E, H)
    for name, got, want in (
        ("out", out, want_out),
        ("k", cache[0], want_k),
        ("v", cache[1], want_v),
    ):
        assert_close(
            got.cpu(),
            want.to(x.dtype),
            msg=lambda m, name=name: f"{what}: {name} is wrong\n{m}",
            **tol,
        )
        assert got.device == x.device, f"{what}: {name} is on {got.device}, x on {x.device}"


def sequence(seed: int, B: int, T: int, E: int, dtype=F64, device="cpu") -> torch.Tensor:
    return randn(torch.Generator().manual_seed(seed), B, T, E, dtype=dtype).to(device)


# ---------------------------------------------------------------------------- the README


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    layer = solution.CachedCausalSelfAttention(4, 1, bias=False)
    with torch.no_grad():  # q = k = v = x and c_proj is the identity
        layer.c_attn.weight.copy_(torch.eye(4).repeat(3, 1))
        layer.c_proj.weight.copy_(torch.eye(4))
    x = torch.tensor([[[2.0, 0, 0, 0], [0, 2, 0, 0], [2, 2, 0, 0]]])
    to_4_places = {"rtol": 0, "atol": 5e-5}

    with torch.no_grad():
        out, (k, v) = call(layer, x[:, :2])
        assert k.shape == v.shape == (1, 1, 2, 4), (
            f"README example, prefill of 2 tokens: cache shapes {tuple(k.shape)} and "
            f"{tuple(v.shape)}, expected (1, 1, 2, 4) each"
        )
        assert_close(
            out,
            torch.tensor([[[2.0, 0, 0, 0], [0.2384, 1.7616, 0, 0]]]),
            msg=lambda m: f"README example, prefill of 2 tokens: out\n{m}",
            **to_4_places,
        )
        out, (k, v) = call(layer, x[:, 2:], (k, v))
        assert k.shape == v.shape == (1, 1, 3, 4), (
            f"README example, decoding token 2: cache shapes {tuple(k.shape)} and "
            f"{tuple(v.shape)}, expected (1, 1, 3, 4) each"
        )
        assert_close(
            out,
            torch.tensor([[[1.7870, 1.7870, 0, 0]]]),
            msg=lambda m: (
                f"README example, decoding token 2 with the cache of tokens 0 and 1: out "
                f"(it must see all three keys; [2, 0, 0, 0] means it saw key 0 only)\n{m}"
            ),
            **to_4_places,
        )
        assert_close(k[0, 0], x[0], msg=lambda m: f"README example: the cached keys are x\n{m}")
        assert_close(v[0, 0], x[0], msg=lambda m: f"README example: the cached values are x\n{m}")


# ---------------------------------------------------------------------------- the layer


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_layer_has_gpt2s_parameters_and_no_others(solution, bias):
    layer = solution.CachedCausalSelfAttention(12, 3, bias=bias)
    call_ = f"CachedCausalSelfAttention(12, 3, bias={bias})"
    assert isinstance(layer, nn.Module), f"{call_} is not an nn.Module"
    for name in ("c_attn", "c_proj"):
        assert isinstance(getattr(layer, name, None), nn.Linear), f"{call_}.{name}: no nn.Linear"
    want = {"c_attn.weight": (36, 12), "c_proj.weight": (12, 12)}
    if bias:
        want |= {"c_attn.bias": (36,), "c_proj.bias": (12,)}
    got = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    assert got == want, f"{call_} has parameters {got}; expected {want}"


def test_bias_defaults_to_true(solution):
    layer = solution.CachedCausalSelfAttention(8, 2)
    assert layer.c_attn.bias is not None and layer.c_proj.bias is not None, (
        "CachedCausalSelfAttention(8, 2): c_attn and c_proj should have biases by default"
    )


@pytest.mark.parametrize(("E", "H"), [(10, 4), (6, 4), (7, 2)])
def test_embed_dim_not_divisible_by_num_heads_raises_a_value_error(solution, E, H):
    with pytest.raises(ValueError) as info:
        solution.CachedCausalSelfAttention(E, H)
    assert str(E) in str(info.value) and str(H) in str(info.value), (
        f"CachedCausalSelfAttention({E}, {H}) raised ValueError({str(info.value)!r}); "
        f"the message should name {E} and {H}"
    )


def test_the_cache_grows_by_exactly_t_at_each_call(solution):
    B, E, H = 2, 12, 3
    layer = make_layer(solution, E, H, dtype=torch.float32)
    x = sequence(1, B, 8, E, dtype=torch.float32)
    past, T_past = None, 0
    with torch.no_grad():
        for T in [3, 1, 2, 1, 1]:
            chunk = x[:, T_past : T_past + T]
            what = describe(chunk, past)
            out, past = call(layer, chunk, past)
            T_past += T
            assert out.shape == (B, T, E) and out.dtype == torch.float32, (
                f"{what} returned out {shape(out)}; expected float32 {(B, T, E)}"
            )
            for name, t in zip("kv", past, strict=True):
                assert t.shape == (B, H, T_past, E // H) and t.dtype == torch.float32, (
                    f"{what} returned {name} {shape(t)}; expected float32 "
                    f"{(B, H, T_past, E // H)}: (B, H, T_past + T, D)"
                )


# ---------------------------------------------------------------------------- no cache


SHAPES = {"B1-T1": (1, 1, 8, 2), "B2-T5-H2": (2, 5, 8, 2), "B3-T7-H4": (3, 7, 16, 4)}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("sizes", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("device", DEVICES)
def test_without_a_cache_it_matches_multihead_attention_with_a_causal_mask(
    solution, device, sizes, bias
):
    B, T, E, H = sizes
    layer = make_layer(solution, E, H, bias=bias, seed=2, device=device)
    x = sequence(3, B, T, E, device=device)
    with torch.no_grad():
        out, cache = call(layer, x)
    check_against_oracle(layer, x, E, H, out, cache, f"{describe(x)} with H={H}, bias={bias}")


def test_without_a_cache_each_output_depends_on_its_own_and_earlier_tokens_only(solution):
    B, T, E, H = 2, 6, 8, 2
    layer = make_layer(solution, E, H, seed=4)
    x = sequence(5, B, T, E).requires_grad_()
    out, _ = call(layer, x)
    for t in range(T):
        (grad,) = torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)
        leak = grad[:, t + 1 :].abs().max().item() if t + 1 < T else 0.0
        assert leak == 0, f"{describe(x)}: out[:, {t}] depends on x[:, {t + 1}:] (grad {leak:.3g})"
        assert grad[:, t].abs().max() > 0, f"{describe(x)}: out[:, {t}] ignores x[:, {t}]"


# ---------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_token_by_token_decoding_equals_one_full_forward(solution, dtype, device):
    B, T, E, H = 2, 9, 12, 3
    layer = make_layer(solution, E, H, seed=6, dtype=dtype, device=device)
    x = sequence(7, B, T, E, dtype=dtype, device=device)
    with torch.no_grad():
        full, full_cache = call(layer, x)
        out, cache, _ = decode(layer, x, [1] * T)
    what = f"decoding {shape(x)} token by token"
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else TIGHT
    for name, got, want in zip(("out", "k", "v"), (out, *cache), (full, *full_cache), strict=True):
        assert_close(
            got,
            want,
            msg=lambda m, name=name: f"{what}: {name} differs from one call on all of x\n{m}",
            **tol,
        )
    check_against_oracle(layer, x, E, H, out, cache, what)


CHUNKINGS = {
    "2-2-2-1": [2, 2, 2, 1],
    "3-4": [3, 4],
    "1-3-1-2": [1, 3, 1, 2],
    "5-2": [5, 2],
    "one-chunk": [7],
}


@pytest.mark.parametrize("chunks", CHUNKINGS.values(), ids=CHUNKINGS.keys())
def test_decoding_in_chunks_equals_one_full_forward(solution, chunks):
    B, T, E, H = 2, 7, 8, 2
    layer = make_layer(solution, E, H, seed=8)
    x = sequence(9, B, T, E)
    with torch.no_grad():
        out, cache, _ = decode(layer, x, chunks)
    check_against_oracle(layer, x, E, H, out, cache, f"decoding {shape(x)} in chunks {chunks}")


@pytest.mark.parametrize("prompt", [1, 4, 7])
def test_a_prefill_then_token_by_token_decoding_equals_one_full_forward(solution, prompt):
    B, T, E, H = 3, 10, 8, 4
    layer = make_layer(solution, E, H, seed=10)
    x = sequence(11, B, T, E)
    chunks = [prompt] + [1] * (T - prompt)
    with torch.no_grad():
        out, cache, _ = decode(layer, x, chunks)
    check_against_oracle(
        layer, x, E, H, out, cache, f"prefill of {prompt} tokens, then decoding {shape(x)}"
    )


def test_a_cache_computed_elsewhere_is_continued_correctly(solution):
    """The past comes from the oracle's projections, not from the layer: the layer must
    read the cache in the layout it is specified in, (B, H, T_past, D), unscaled."""
    B, T, P, E, H = 2, 6, 4, 12, 3
    layer = make_layer(solution, E, H, seed=12)
    x = sequence(13, B, T, E)
    want_out, want_k, want_v = expected(layer, x, E, H)
    past = (want_k[:, :, :P].clone(), want_v[:, :, :P].clone())
    with torch.no_grad():
        out, cache = call(layer, x[:, P:], past)
    what = describe(x[:, P:], past) + " with the oracle's keys and values of x[:, :4]"
    assert_close(out, want_out[:, P:], msg=lambda m: f"{what}: out\n{m}")
    assert_close(cache[0], want_k, msg=lambda m: f"{what}: k\n{m}")
    assert_close(cache[1], want_v, msg=lambda m: f"{what}: v\n{m}")


def test_an_empty_past_gives_what_no_past_gives(solution):
    B, T, E, H = 2, 5, 8, 2
    layer = make_layer(solution, E, H, seed=14)
    x = sequence(15, B, T, E)
    empty = (torch.zeros(B, H, 0, E // H, dtype=F64), torch.zeros(B, H, 0, E // H, dtype=F64))
    with torch.no_grad():
        out, cache = call(layer, x, empty)
        want_out, want_cache = call(layer, x)
    what = describe(x, empty)
    assert_close(out, want_out, msg=lambda m: f"{what}: out differs from no past\n{m}", **TIGHT)
    for name, got, want in zip("kv", cache, want_cache, strict=True):
        assert_close(
            got, want, msg=lambda m, name=name: f"{what}: {name} differs from no past\n{m}", **TIGHT
        )
    check_against_oracle(layer, x, E, H, out, cache, what)


def test_one_cache_can_be_continued_in_two_ways_and_never_changes(solution):
    B, P, T, E, H = 2, 4, 3, 8, 2
    layer = make_layer(solution, E, H, seed=16)
    prefix = sequence(17, B, P, E)
    tails = {"a": sequence(18, B, T, E), "b": sequence(19, B, T, E)}
    with torch.no_grad():
        _, cache = call(layer, prefix)
        kept = tuple(t.clone() for t in cache)
        out_a, cache_a = call(layer, tails["a"], cache)
        kept_a = tuple(t.clone() for t in cache_a)
        out_b, cache_b = call(layer, tails["b"], cache)
        for name, now, then in zip("kv", cache, kept, strict=True):
            assert torch.equal(now, then), f"continuing the prefix's cache changed its {name}"
        for name, now, then in zip("kv", cache_a, kept_a, strict=True):
            assert torch.equal(now, then), (
                f"continuing the prefix's cache with a second tail changed the {name} returned "
                f"for the first tail: a returned cache must stay as it was returned (no "
                f"shared buffer written in place)"
            )
        out_a2, _ = call(layer, tails["a"], cache)
    assert_close(out_a2, out_a, msg=lambda m: f"the same call twice gave different outputs\n{m}")
    what = "continuing one prefix's cache with two different tails"
    for tail, out, cache_t in ((tails["a"], out_a, cache_a), (tails["b"], out_b, cache_b)):
        want_out, want_k, want_v = expected(layer, torch.cat([prefix, tail], dim=1), E, H)
        assert_close(out, want_out[:, P:], msg=lambda m: f"{what}: out\n{m}")
        assert_close(cache_t[0], want_k, msg=lambda m: f"{what}: k\n{m}")
        assert_close(cache_t[1], want_v, msg=lambda m: f"{what}: v\n{m}")


def test_the_inputs_are_left_unchanged(solution):
    B, P, T, E, H = 2, 3, 2, 8, 2
    layer = make_layer(solution, E, H, seed=20)
    gen = torch.Generator().manual_seed(21)
    x, past = randn(gen, B, T, E), (randn(gen, B, H, P, E // H), randn(gen, B, H, P, E // H))
    before = [t.clone() for t in (x, *past)]
    with torch.no_grad():
        call(layer, x, past)
    for name, now, then in zip(("x", "past_k", "past_v"), (x, *past), before, strict=True):
        assert torch.equal(now, then), f"{describe(x, past)} modified its input {name}"


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("device", DEVICES)
def test_gradients_through_cached_steps_match_multihead_attention(solution, device, bias):
    """A loss on the tokens decoded with a cache reaches, through the cache, the earlier
    tokens and the parameters, exactly as in one full forward."""
    B, T, P, E, H = 2, 6, 3, 8, 2
    layer = make_layer(solution, E, H, bias=bias, seed=22, device=device)
    x = sequence(23, B, T, E)
    upstream = sequence(24, B, T - P, E)

    mha = oracle_mha(layer, E, H)
    leaf = x.clone().requires_grad_()
    want_out = mha(leaf, leaf, leaf, attn_mask=causal_mask(T), need_weights=False)[0]
    mha_params = [mha.in_proj_weight, mha.out_proj.weight]
    if bias:
        mha_params += [mha.in_proj_bias, mha.out_proj.bias]
    want = torch.autograd.grad((want_out[:, P:] * upstream).sum(), [leaf, *mha_params])

    leaf = x.clone().to(device).requires_grad_()
    out, _, _ = decode(layer, leaf, [P, 1, T - P - 1])
    params = [layer.c_attn.weight, layer.c_proj.weight]
    if bias:
        params += [layer.c_attn.bias, layer.c_proj.bias]
    got = torch.autograd.grad(
        (out[:, P:] * upstream.to(device)).sum(), [leaf, *params], allow_unused=True
    )
    names = ["x", "c_attn.weight", "c_proj.weight", "c_attn.bias", "c_proj.bias"]
    what = f"decoding {shape(x)} in chunks [{P}, 1, {T - P - 1}], a loss on the last {T - P}"
    for name, g, w in zip(names, got, want, strict=False):
        assert g is not None, f"{what}: no gradient reached {name}"
        assert_close(g.cpu(), w, msg=lambda m, name=name: f"{what}: gradient of {name}\n{m}")


def test_gradients_reach_the_past_keys_and_values_as_in_torchs_attention(solution):
    """The oracle: the same step written with torch's own attention over the past keys and
    values followed by the new ones, the new queries seeing keys 0..T_past+i."""
    B, T, P, E, H = 2, 3, 4, 8, 2
    D = E // H
    layer = make_layer(solution, E, H, seed=25)
    gen = torch.Generator().manual_seed(26)
    x, past_k, past_v = randn(gen, B, T, E), randn(gen, B, H, P, D), randn(gen, B, H, P, D)
    upstream = randn(gen, B, T, E)
    what = describe(x, (past_k, past_v)) + ", a loss on out"

    leaves = [t.clone().requires_grad_() for t in (x, past_k, past_v)]
    q, k, v = nn.functional.linear(leaves[0], layer.c_attn.weight, layer.c_attn.bias).split(E, -1)
    q, k, v = (t.reshape(B, T, H, D).transpose(1, 2) for t in (q, k, v))
    k, v = torch.cat([leaves[1], k], dim=2), torch.cat([leaves[2], v], dim=2)
    sees = torch.ones(T, P + T, dtype=torch.bool).tril(P)  # True = may attend
    y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=sees)
    want_out = nn.functional.linear(
        y.transpose(1, 2).reshape(B, T, E), layer.c_proj.weight, layer.c_proj.bias
    )
    want = torch.autograd.grad((want_out * upstream).sum(), leaves)

    leaves = [t.clone().requires_grad_() for t in (x, past_k, past_v)]
    out, _ = call(layer, leaves[0], (leaves[1], leaves[2]))
    assert_close(out, want_out.detach(), msg=lambda m: f"{what}: out\n{m}")
    got = torch.autograd.grad((out * upstream).sum(), leaves, allow_unused=True)
    for name, g, w in zip(("x", "past_k", "past_v"), got, want, strict=True):
        assert g is not None, f"{what}: no gradient reached {name}"
        assert_close(g, w, msg=lambda m, name=name: f"{what}: gradient of {name}\n{m}")


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_decoding_keeps_the_dtype_and_matches_the_oracle(solution, dtype):
    B, T, E, H = 2, 6, 8, 2
    layer = make_layer(solution, E, H, seed=27, dtype=dtype)
    x = sequence(28, B, T, E, dtype=dtype)
    with torch.no_grad():
        out, cache, _ = decode(layer, x, [3, 1, 2])
    what = f"decoding {shape(x)} in chunks [3, 1, 2] with a {dtype} layer"
    assert out.dtype == cache[0].dtype == cache[1].dtype == dtype, (
        f"{what}: out {out.dtype}, k {cache[0].dtype}, v {cache[1].dtype}; expected {dtype}"
    )
    check_against_oracle(layer, x, E, H, out, cache, what)


# ---------------------------------------------------------------------------- properties


@st.composite
def chunked_sequences(draw):
    return {
        "B": draw(st.integers(1, 3)),
        "H": draw(st.integers(1, 3)),
        "D": draw(st.integers(1, 4)),
        "chunks": draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=30)
@given(case=chunked_sequences())
def test_any_chunking_of_a_sequence_gives_the_full_forward(solution, case):
    B, H, D, chunks = case["B"], case["H"], case["D"], case["chunks"]
    E = H * D
    layer = make_layer(solution, E, H, bias=case["bias"], seed=case["seed"])
    x = sequence(case["seed"] + 1, B, sum(chunks), E)
    with torch.no_grad():
        out, cache, caches = decode(layer, x, chunks)
    what = f"decoding {shape(x)} with H={H}, bias={case['bias']} in chunks {chunks}"
    lengths = [c[0].shape[2] for c in caches]
    assert lengths == [sum(chunks[: i + 1]) for i in range(len(chunks))], (
        f"{what}: the cache lengths were {lengths}"
    )
    check_against_oracle(layer, x, E, H, out, cache, what)


# ---------------------------------------------------------------------------- errors


def raised_by(thunk) -> BaseException | None:
    try:
        thunk()
    except NotImplementedError:
        raise
    except Exception as exc:  # any other error is judged by the test
        return exc
    return None


# the layer: E=8, H=2, D=4; x: B=3, T=2; a good past: (3, 2, 5, 4)
BAD_PASTS = {
    "batch": ((6, 2, 5, 4), (6, 2, 5, 4), ("6", "3"), "the batch size differs from x's"),
    "heads": ((3, 7, 5, 4), (3, 7, 5, 4), ("7", "2"), "the head count differs from H"),
    "head-size": ((3, 2, 5, 9), (3, 2, 5, 9), ("9", "4"), "the head size differs from D"),
    "k-v-lengths": ((3, 2, 5, 4), (3, 2, 6, 4), ("5", "6"), "k and v differ in T_past"),
    "3-D": ((3, 5, 8), (3, 5, 8), (), "k and v are not (B, H, T_past, D)"),
}


@pytest.mark.parametrize(("k_shape", "v_shape", "sizes", "what"), BAD_PASTS.values(), ids=BAD_PASTS)
def test_a_past_that_does_not_fit_raises_a_value_error_naming_the_sizes(
    solution, k_shape, v_shape, sizes, what
):
    layer = make_layer(solution, 8, 2, seed=29)
    gen = torch.Generator().manual_seed(30)
    x, past = randn(gen, 3, 2, 8), (randn(gen, *k_shape), randn(gen, *v_shape))
    what = f"{describe(x, past)} ({what})"
    with torch.no_grad():
        exc = raised_by(lambda: layer(x, past_key_value=past))
    assert exc is not None, f"{what} returned a result; expected ValueError"
    assert isinstance(exc, ValueError), (
        f"{what} raised {type(exc).__name__}: {exc}; expected ValueError"
    )
    assert all(size in str(exc) for size in sizes), (
        f"{what} raised ValueError({str(exc)!r}); the message should name {' and '.join(sizes)}"
    )
