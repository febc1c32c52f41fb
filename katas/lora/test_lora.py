"""Tests for the lora kata: the LoRA formula and its scale, the initialisation, what is frozen
and what trains, the parameter names, merge(), and the rank check.

The oracle is the formula x @ (W + alpha/r * B @ A)^T + b, written out below in float64 on
the module's own (rounded) weights, after the tests have loaded seeded values into lora_A and
lora_B. The initialisation is judged by its distribution, never by torch's draws.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


# ---------------------------------------------------------------------------- helpers


def randn(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def make_base(
    in_features: int, out_features: int, bias=True, seed=0, dtype=torch.float64, device="cpu"
) -> nn.Linear:
    """An nn.Linear with seeded weights N(0, 1/in_features) and biases N(0, 1/4)."""
    gen = torch.Generator().manual_seed(seed)
    base = nn.Linear(in_features, out_features, bias=bias, dtype=dtype, device=device)
    with torch.no_grad():
        base.weight.copy_(randn(gen, out_features, in_features) / math.sqrt(in_features))
        if bias:
            base.bias.copy_(randn(gen, out_features) / 2)
    return base


def make_lora(solution, in_features, out_features, r, alpha, bias=True, seed=0, **kw):
    """LoRALinear around a seeded base, built under a fixed global seed (lora_A's draw)."""
    base = make_base(in_features, out_features, bias=bias, seed=seed, **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 100)
        return solution.LoRALinear(base, r=r, alpha=alpha)


def load_factors(lora: nn.Module, seed: int) -> nn.Module:
    """Seeded lora_A ~ N(0, 1/in) and lora_B ~ N(0, 1/r), in the module's dtype and device, so
    that the update is of the same order as the base's output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        r, d_in = lora.lora_A.shape
        lora.lora_A.copy_(randn(gen, r, d_in) / math.sqrt(d_in))
        lora.lora_B.copy_(randn(gen, lora.lora_B.shape[0], r) / math.sqrt(r))
    return lora


def expected(lora: nn.Module, x: torch.Tensor, alpha: float, r: int) -> torch.Tensor:
    """x @ (W + alpha/r * B @ A)^T + b in float64 on the CPU, on the module's own weights."""
    f64 = {n: p.detach().cpu().double() for n, p in lora.named_parameters()}
    x = x.detach().cpu().double()
    out = x @ f64["base.weight"].T + alpha / r * (x @ f64["lora_A"].T) @ f64["lora_B"].T
    if "base.bias" in f64:
        out = out + f64["base.bias"]
    return out


def describe(in_features, out_features, r, alpha, bias=True, dtype=torch.float64, device="cpu"):
    kind = str(dtype).removeprefix("torch.")
    b = "" if bias else ", bias=False"
    return (
        f"LoRALinear(nn.Linear({in_features}, {out_features}{b}) {kind} on {device}, "
        f"r={r}, alpha={alpha})"
    )


def x_of(seed: int, *shape: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    return randn(torch.Generator().manual_seed(seed), *shape).to(dtype=dtype, device=device)


# ---------------------------------------------------------------------------- worked example


def test_the_readme_worked_example(solution):
    base = nn.Linear(2, 3, dtype=torch.float64)
    with torch.no_grad():
        base.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 1]]))
        base.bias.copy_(torch.tensor([0.0, 0, 1]))
    lora = solution.LoRALinear(base, r=1, alpha=2.0)
    with torch.no_grad():
        lora.lora_A.copy_(torch.tensor([[1.0, 2.0]]))
        lora.lora_B.copy_(torch.tensor([[1.0], [0.0], [-1.0]]))
    x = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    want = torch.tensor([[7.0, 1.0, -3.0]], dtype=torch.float64)
    call = "LoRALinear(W=[[1,0],[0,1],[1,1]], b=[0,0,1], r=1, alpha=2), A=[[1,2]], B=[[1],[0],[-1]]"
    assert_close(lora(x), want, msg=lambda m: f"{call}, forward([[1, 1]])\n{m}")
    merged = lora.merge()
    assert_close(
        merged.weight,
        torch.tensor([[3.0, 4.0], [0.0, 1.0], [-1.0, -3.0]], dtype=torch.float64),
        msg=lambda m: f"{call}: merge().weight\n{m}",
    )
    assert_close(merged(x), want, msg=lambda m: f"{call}: merge()([[1, 1]])\n{m}")


# ---------------------------------------------------------------------------- forward


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_forward_equals_the_formula(solution, bias, device):
    for r, alpha in [(1, 1.0), (4, 16.0), (8, 2.0)]:
        lora = load_factors(make_lora(solution, 12, 5, r, alpha, bias=bias, device=device), 1)
        x = x_of(2, 3, 7, 12, device=device)
        call = describe(12, 5, r, alpha, bias, device=device)
        assert_close(
            lora(x),
            expected(lora, x, alpha, r).to(device),
            msg=lambda m, call=call: (
                f"{call} on x (3, 7, 12): forward differs from x @ (W + alpha/r * B @ A)^T + b\n{m}"
            ),
        )


@pytest.mark.parametrize("device", DEVICES)
def test_output_equals_the_base_layer_at_initialisation(solution, device):
    lora = make_lora(solution, 10, 6, r=4, alpha=8.0, device=device)
    x = x_of(3, 5, 10, device=device)
    with torch.no_grad():
        want = lora.base(x)
    assert_close(
        lora(x),
        want,
        rtol=0,
        atol=0,
        msg=lambda m: (
            f"{describe(10, 6, 4, 8.0, device=device)} freshly built: forward(x) must "
            f"equal base(x) exactly (lora_B starts at zero)\n{m}"
        ),
    )


@pytest.mark.parametrize("r, alpha", [(2, 1.0), (4, 16.0), (8, 8.0), (16, 4.0)])
def test_the_update_is_scaled_by_alpha_over_r(solution, r, alpha):
    """A = 1 everywhere and B = 1 everywhere make the update alpha / r * r * sum(x) = alpha * sum(x)
    in every output: with the base zeroed, the output is exactly that."""
    lora = make_lora(solution, 6, 3, r, alpha)
    with torch.no_grad():
        lora.base.weight.zero_()
        lora.base.bias.zero_()
        lora.lora_A.fill_(1.0)
        lora.lora_B.fill_(1.0)
    x = torch.tensor([[1.0, 2.0, 0.0, -1.0, 0.5, 0.5]], dtype=torch.float64)  # sum 3
    want = torch.full((1, 3), alpha * 3.0, dtype=torch.float64)
    assert_close(
        lora(x),
        want,
        msg=lambda m: (
            f"{describe(6, 3, r, alpha)} with W = 0, b = 0, A = 1, B = 1 on x summing "
            f"to 3: every output must be alpha/r * r * 3 = {alpha * 3}\n{m}"
        ),
    )


@settings(max_examples=25)
@given(
    in_features=st.integers(1, 9),
    out_features=st.integers(1, 9),
    r=st.integers(1, 6),
    alpha=st.sampled_from([0.5, 1.0, 3.0, 16.0]),
    batch=st.lists(st.integers(1, 3), max_size=2),
    bias=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_any_shape_matches_the_formula(
    solution, in_features, out_features, r, alpha, batch, bias, seed
):
    lora = load_factors(
        make_lora(solution, in_features, out_features, r, alpha, bias=bias, seed=seed), seed + 1
    )
    x = x_of(seed + 2, *batch, in_features)
    call = describe(in_features, out_features, r, alpha, bias)
    assert_close(
        lora(x),
        expected(lora, x, alpha, r),
        msg=lambda m: f"{call} on x {tuple(x.shape)}\n{m}",
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_low_precision_layers_keep_their_dtype(solution, dtype):
    lora = load_factors(make_lora(solution, 16, 8, r=4, alpha=8.0, dtype=dtype), 3)
    x = x_of(4, 5, 16, dtype=dtype)
    call = describe(16, 8, 4, 8.0, dtype=dtype)
    for p in (lora.lora_A, lora.lora_B):
        assert p.dtype == dtype, f"{call}: lora parameters are {p.dtype}; expected {dtype}"
    assert_close(
        lora(x),
        expected(lora, x, 8.0, 4).to(dtype),
        msg=lambda m: f"{call} on x (5, 16)\n{m}",
        **tolerance(dtype),
    )


# ---------------------------------------------------------------------------- training


@pytest.mark.parametrize("device", DEVICES)
def test_only_the_lora_factors_get_gradients(solution, device):
    lora = load_factors(make_lora(solution, 8, 5, r=3, alpha=6.0, device=device), 5)
    x = x_of(6, 4, 8, device=device)
    upstream = x_of(7, 4, 5, device=device)
    (lora(x) * upstream).sum().backward()
    call = describe(8, 5, 3, 6.0, device=device)
    assert lora.base.weight.grad is None and lora.base.bias.grad is None, (
        f"{call}: after backward the base layer got gradients; its weight and bias must be "
        "frozen (requires_grad False)"
    )
    A = lora.lora_A.detach().cpu().double().requires_grad_()
    B = lora.lora_B.detach().cpu().double().requires_grad_()
    xc = x.cpu()
    out = xc @ lora.base.weight.detach().cpu().T + 2.0 * (xc @ A.T) @ B.T
    (out * upstream.cpu()).sum().backward()
    for name, got, want in (
        ("lora_A", lora.lora_A.grad, A.grad),
        ("lora_B", lora.lora_B.grad, B.grad),
    ):
        assert got is not None, f"{call}: {name}.grad is None after backward"
        assert_close(
            got,
            want.to(device),
            msg=lambda m, name=name: f"{call}: gradient of {name}\n{m}",
        )


def test_trainable_parameters_are_exactly_lora_a_and_lora_b(solution):
    lora = make_lora(solution, 8, 5, r=2, alpha=4.0)
    trainable = sorted(n for n, p in lora.named_parameters() if p.requires_grad)
    assert trainable == ["lora_A", "lora_B"], (
        f"{describe(8, 5, 2, 4.0)}: the parameters that require grad are {trainable}; "
        "expected exactly ['lora_A', 'lora_B'] (the base must be frozen)"
    )


def test_one_sgd_step_from_initialisation_changes_the_output(solution):
    """At initialisation B = 0 but A is random, so B's gradient is not zero and one step
    moves the output; with A = 0 too, nothing would ever train."""
    lora = make_lora(solution, 8, 5, r=2, alpha=4.0)
    x = x_of(8, 6, 8)
    target = x_of(9, 6, 5)
    before = lora(x).detach()
    ((lora(x) - target) ** 2).mean().backward()
    with torch.no_grad():  # plain SGD (torch.optim.SGD's first step imports torch._dynamo: 1 s)
        for p in (lora.lora_A, lora.lora_B):
            p -= 0.5 * p.grad
    change = (lora(x).detach() - before).abs().max().item()
    assert change > 1e-3, (
        f"{describe(8, 5, 2, 4.0)} freshly built: one SGD step (lr=0.5) on a squared error "
        f"changed the output by at most {change:.2g}; expected a visible change (is lora_A "
        "zero too?)"
    )


def test_the_initialisation_is_kaiming_uniform_for_a_and_zero_for_b(solution):
    in_features, r = 256, 16
    lora = make_lora(solution, in_features, 4, r=r, alpha=16.0)
    A, B = lora.lora_A.detach(), lora.lora_B.detach()
    call = describe(in_features, 4, r, 16.0)
    assert tuple(A.shape) == (r, in_features) and tuple(B.shape) == (4, r), (
        f"{call}: lora_A is {tuple(A.shape)} and lora_B {tuple(B.shape)}; expected "
        f"({r}, {in_features}) and (4, {r})"
    )
    assert not B.any(), f"{call}: lora_B must start at zeros"
    bound = 1 / math.sqrt(in_features)
    assert A.abs().max() <= bound, (
        f"{call}: |lora_A| reaches {A.abs().max():.4g}, beyond the Kaiming-uniform (a=sqrt(5)) "
        f"bound 1/sqrt(in_features) = {bound:.4g}"
    )
    # 4096 uniform draws on [-bound, bound]: std = bound / sqrt(3) within 5% and mean within
    # 0.1 bound fail a right answer far less than once in a million
    std, mean = A.std().item(), A.mean().item()
    assert abs(std / (bound / math.sqrt(3)) - 1) < 0.05 and abs(mean) < 0.1 * bound, (
        f"{call}: lora_A has mean {mean:.4g} and std {std:.4g}; a Kaiming-uniform (a=sqrt(5)) "
        f"draw has mean 0 and std {bound / math.sqrt(3):.4g}"
    )


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_state_dict_names_the_base_and_the_factors(solution, bias):
    lora = make_lora(solution, 6, 4, r=2, alpha=2.0, bias=bias)
    keys = sorted(lora.state_dict())
    want = sorted(["base.weight", "lora_A", "lora_B"] + (["base.bias"] if bias else []))
    assert keys == want, f"{describe(6, 4, 2, 2.0, bias)}: state_dict keys {keys}; expected {want}"


@pytest.mark.parametrize("r", [0, -1])
def test_a_rank_below_one_raises_value_error(solution, r):
    with pytest.raises(ValueError):
        solution.LoRALinear(make_base(4, 3), r=r, alpha=1.0)


# ---------------------------------------------------------------------------- merge


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_the_merged_layer_computes_the_same_output(solution, bias, device):
    lora = load_factors(make_lora(solution, 9, 4, r=3, alpha=12.0, bias=bias, device=device), 10)
    merged = lora.merge()
    call = f"{describe(9, 4, 3, 12.0, bias, device=device)}.merge()"
    assert isinstance(merged, nn.Linear), (
        f"{call} returned {type(merged).__name__}; expected nn.Linear"
    )
    assert (merged.bias is None) == (not bias), (
        f"{call}: merged bias is {'None' if merged.bias is None else 'present'}; expected "
        f"{'present' if bias else 'None'}, like the base"
    )
    x = x_of(11, 2, 5, 9, device=device)
    want = expected(lora, x, 12.0, 3).to(device)
    with torch.no_grad():
        assert_close(
            merged(x), want, msg=lambda m: f"{call}(x) differs from forward's formula\n{m}"
        )
        assert_close(lora(x), want, msg=lambda m: f"{call}: forward differs from the formula\n{m}")


def test_merge_leaves_the_module_unchanged_and_shares_no_storage(solution):
    lora = load_factors(make_lora(solution, 7, 5, r=2, alpha=3.0), 12)
    before = {k: v.clone() for k, v in lora.state_dict().items()}
    merged = lora.merge()
    call = f"{describe(7, 5, 2, 3.0)}.merge()"
    for k, v in lora.state_dict().items():
        assert torch.equal(v, before[k]), f"{call} changed the LoRA module's {k}; it must not"
    ours = {p.untyped_storage().data_ptr() for p in lora.parameters()}
    for name, p in merged.named_parameters():
        assert p.untyped_storage().data_ptr() not in ours, (
            f"{call}: the merged layer's {name} shares storage with the LoRA module; it must "
            "be a new tensor"
        )
    x = x_of(13, 3, 7)
    with torch.no_grad():
        want = lora(x)
        merged.weight.add_(1.0)
        merged.bias.add_(1.0)
    assert_close(
        lora(x).detach(),
        want,
        rtol=0,
        atol=0,
        msg=lambda m: f"{call}: changing the merged layer changed the LoRA module's output\n{m}",
    )
