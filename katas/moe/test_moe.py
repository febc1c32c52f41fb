"""Tests for the moe kata: the routed mixture against a dense oracle, the sparsity of the
routing (which rows each expert sees), the two extremes of top_k, gradients, parameter names,
low precision and the top_k check.

The oracle, written out below in float64 on the module's own (rounded) weights, runs every
expert on every token and weights each output by the routing computed independently (zero
for the experts a token did not choose). Inputs are drawn so that every token's gate logits
are at least MARGIN apart, so that rounding can never change which experts are chosen.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dojo.checks import DEVICES, assert_close, tolerance

MARGIN = 0.2  # the smallest gap between two gate logits of one token in the tests' inputs


# ---------------------------------------------------------------------------- helpers


def make_moe(
    solution, dim, hidden_dim, num_experts, top_k, seed=0, dtype=torch.float64, device="cpu"
):
    """MoE with seeded weights: gate rows N(0, 4/dim) (logits spread over a few units), w1 and
    w3 N(0, 1/dim), w2 N(0, 4/hidden_dim), so that outputs are of order one."""
    moe = solution.MoE(dim, hidden_dim, num_experts, top_k)
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape, std):
        return torch.randn(shape, generator=gen, dtype=torch.float64) * std

    with torch.no_grad():
        moe.gate.weight.copy_(randn(num_experts, dim, std=2 / math.sqrt(dim)))
        for expert in moe.experts:
            expert.w1.weight.copy_(randn(hidden_dim, dim, std=1 / math.sqrt(dim)))
            expert.w3.weight.copy_(randn(hidden_dim, dim, std=1 / math.sqrt(dim)))
            expert.w2.weight.copy_(randn(dim, hidden_dim, std=2 / math.sqrt(hidden_dim)))
    return moe.to(dtype=dtype, device=device)


def weights64(moe: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().double() for n, p in moe.named_parameters()}


def make_x(moe, B, T, seed=1, dtype=torch.float64, device="cpu", margin=MARGIN):
    """(B, T, dim) tokens N(0, 1) whose gate logits, computed in float64 from the rounded
    tokens and gate, are pairwise at least margin apart: drawn in batches, the others dropped."""
    gate = weights64(moe)["gate.weight"]  # (E, dim)
    dim = gate.shape[1]
    gen = torch.Generator().manual_seed(seed)
    kept = []
    while sum(len(k) for k in kept) < B * T:
        pool = torch.randn(64, dim, generator=gen, dtype=torch.float64).to(dtype).double()
        logits = pool @ gate.T  # (64, E)
        gaps = (logits[:, :, None] - logits[:, None, :]).abs()  # (64, E, E)
        gaps = gaps + torch.eye(gate.shape[0], dtype=torch.float64) * 1e9
        kept.append(pool[gaps.amin(dim=(1, 2)) >= margin])
    return torch.cat(kept)[: B * T].reshape(B, T, dim).to(dtype=dtype, device=device)


def routing(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """(N, E) float64 routing weights: softmax of the top_k largest logits of each row, 0
    elsewhere; the top_k are found by sorting, the softmax written out."""
    order = logits.argsort(dim=-1, descending=True)[:, :top_k]  # (N, k)
    chosen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, order, True)
    masked = logits.masked_fill(~chosen, -math.inf)
    e = (masked - masked.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


def expert_outputs(w: dict[str, torch.Tensor], tokens: torch.Tensor, E: int) -> torch.Tensor:
    """(N, E, dim): every expert run on every token, in float64."""
    outs = []
    for e in range(E):
        h = F.silu(tokens @ w[f"experts.{e}.w1.weight"].T) * (
            tokens @ w[f"experts.{e}.w3.weight"].T
        )
        outs.append(h @ w[f"experts.{e}.w2.weight"].T)
    return torch.stack(outs, dim=1)


def expected(moe: nn.Module, x: torch.Tensor, top_k: int, w=None) -> torch.Tensor:
    """The dense oracle in float64 on the CPU: every expert on every token, weighted by the
    routing (0 for the experts a token did not choose)."""
    w = weights64(moe) if w is None else w
    B, T, dim = x.shape
    tokens = x.cpu().double().reshape(B * T, dim)
    E = w["gate.weight"].shape[0]
    r = routing(tokens @ w["gate.weight"].T, top_k)  # (N, E)
    out = (r[:, :, None] * expert_outputs(w, tokens, E)).sum(dim=1)  # (N, dim)
    return out.reshape(B, T, dim)


def describe(dim, hidden_dim, E, top_k, x=None, dtype=torch.float64, device="cpu") -> str:
    call = f"MoE(dim={dim}, hidden_dim={hidden_dim}, num_experts={E}, top_k={top_k})"
    call += f" {str(dtype).removeprefix('torch.')} on {device}"
    return call if x is None else f"{call} on x {tuple(x.shape)}"


def check_against_oracle(
    solution, B, T, dim, hidden, E, k, seed, dtype=torch.float64, device="cpu"
):
    __tracebackhide__ = True
    moe = make_moe(solution, dim, hidden, E, k, seed=seed, dtype=dtype, device=device)
    x = make_x(moe, B, T, seed=seed + 1, dtype=dtype, device=device)
    want = expected(moe, x, k).to(dtype=dtype, device=device)
    tol = {} if dtype == torch.float64 else tolerance(dtype)
    call = describe(dim, hidden, E, k, x, dtype, device)
    assert_close(
        moe(x),
        want,
        **tol,
        msg=lambda m: (
            f"{call}: the output differs from the sum over each token's top-{k} experts of "
            f"softmax(chosen logits) * expert(token)\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- worked example


def test_the_readme_worked_example(solution):
    moe = solution.MoE(dim=2, hidden_dim=1, num_experts=3, top_k=2).double()
    with torch.no_grad():
        moe.gate.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [0, 0]]))
        for e, w2 in enumerate([[[1.0], [0.0]], [[0.0], [1.0]], [[1.0], [1.0]]]):
            moe.experts[e].w1.weight.copy_(torch.tensor([[1.0, 0.0]]))
            moe.experts[e].w3.weight.copy_(torch.tensor([[0.0, 1.0]]))
            moe.experts[e].w2.weight.copy_(torch.tensor(w2))
    x = torch.tensor([[[1.0, 2.0], [-1.0, -2.0]]], dtype=torch.float64)
    want = torch.tensor([[[0.3932, 1.0689], [0.5379, 0.3932]]], dtype=torch.float64)
    assert_close(
        moe(x),
        want,
        rtol=0,
        atol=1e-4,
        msg=lambda m: (
            f"The README's worked example: MoE(2, 1, 3, top_k=2) on x = {x.tolist()}\n{m}"
        ),
    )


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "B, T, dim, hidden, E, k",
    [(2, 5, 8, 16, 4, 2), (1, 7, 6, 12, 6, 3), (3, 4, 8, 8, 5, 1), (2, 3, 4, 8, 2, 2)],
    ids=["E4_k2", "E6_k3", "E5_k1", "E2_k2"],
)
def test_output_equals_the_dense_oracle(solution, B, T, dim, hidden, E, k, device):
    check_against_oracle(solution, B, T, dim, hidden, E, k, seed=10 * E + k, device=device)


def test_top_k_equal_to_num_experts_is_the_dense_softmax_mixture(solution):
    moe = make_moe(solution, 6, 10, 4, 4, seed=3)
    x = make_x(moe, 2, 5, seed=4)
    w = weights64(moe)
    tokens = x.reshape(10, 6)
    probs = torch.softmax(tokens @ w["gate.weight"].T, dim=-1)  # (N, E), every expert
    want = torch.einsum("ne,ned->nd", probs, expert_outputs(w, tokens, 4)).reshape(2, 5, 6)
    assert_close(
        moe(x),
        want,
        msg=lambda m: (
            f"{describe(6, 10, 4, 4, x)}: with top_k = num_experts the output must be the "
            f"dense mixture sum_e softmax(gate(x))_e * expert_e(x)\n{m}"
        ),
    )


def test_top_k_one_gives_the_argmax_experts_output_unscaled(solution):
    moe = make_moe(solution, 6, 10, 5, 1, seed=5)
    x = make_x(moe, 3, 4, seed=6)
    w = weights64(moe)
    tokens = x.reshape(12, 6)
    best = (tokens @ w["gate.weight"].T).argmax(dim=-1)  # (N,)
    want = expert_outputs(w, tokens, 5)[torch.arange(12), best].reshape(3, 4, 6)
    assert_close(
        moe(x),
        want,
        msg=lambda m: (
            f"{describe(6, 10, 5, 1, x)}: with top_k = 1 each token's output must be "
            f"experts[argmax gate(x)](x) times 1.0 (the softmax of one logit)\n{m}"
        ),
    )


def test_tokens_are_routed_one_by_one_not_per_sequence(solution):
    """One sequence whose tokens want different experts: each token gets its own."""
    moe = make_moe(solution, 4, 8, 4, 1, seed=7)
    x = make_x(moe, 1, 16, seed=8)
    best = (x.reshape(16, 4) @ weights64(moe)["gate.weight"].T).argmax(dim=-1)
    assert len(best.unique()) > 1, "the test's tokens should not all choose one expert"
    assert_close(
        moe(x),
        expected(moe, x, 1),
        msg=lambda m: (
            f"{describe(4, 8, 4, 1, x)}: tokens of one sequence choosing experts "
            f"{best.tolist()}: each must be routed on its own gate logits\n{m}"
        ),
    )


@settings(max_examples=30)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    E=st.integers(1, 6),
    k_frac=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_any_batch_experts_and_top_k_match_the_oracle(solution, B, T, E, k_frac, seed):
    k = min(E, 1 + int(k_frac * E))
    check_against_oracle(solution, B, T, 4, 6, E, k, seed=seed)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bfloat16", "float16"])
def test_low_precision_keeps_the_dtype_and_the_values(solution, dtype):
    check_against_oracle(solution, 2, 6, 8, 16, 4, 2, seed=9, dtype=dtype)


# ---------------------------------------------------------------------------- sparsity


def rows_seen_by_each_expert(moe: nn.Module, x: torch.Tensor) -> list[list[int]]:
    """Runs moe(x) with a forward hook on every expert; for each expert, the token indices
    (rows of x.reshape(-1, dim)) of every row its forward received, in any number of calls."""
    tokens = x.reshape(-1, x.shape[-1])
    seen: list[list[int]] = [[] for _ in moe.experts]

    def hook(e):
        def record(module, args, output):
            rows = args[0].detach().reshape(-1, tokens.shape[1])
            for row in rows:
                match = (tokens == row).all(dim=-1).nonzero().flatten().tolist()
                seen[e].append(match[0] if match else -1)  # -1: a row that is no token

        return record

    handles = [expert.register_forward_hook(hook(e)) for e, expert in enumerate(moe.experts)]
    try:
        moe(x)
    finally:
        for h in handles:
            h.remove()
    return seen


@pytest.mark.parametrize("E, k", [(4, 1), (4, 2), (6, 3)], ids=["E4_k1", "E4_k2", "E6_k3"])
def test_each_expert_sees_exactly_the_tokens_routed_to_it(solution, E, k):
    moe = make_moe(solution, 6, 8, E, k, seed=11 + E + k)
    x = make_x(moe, 2, 6, seed=12)
    logits = x.reshape(12, 6) @ weights64(moe)["gate.weight"].T
    topk = logits.argsort(dim=-1, descending=True)[:, :k]  # (N, k)
    seen = rows_seen_by_each_expert(moe, x)
    for e in range(E):
        want = [n for n in range(12) if e in topk[n]]
        assert sorted(seen[e]) == want, (
            f"{describe(6, 8, E, k, x)}: experts[{e}] must be called on exactly the tokens "
            f"whose top-{k} contains it, each once, unchanged: tokens {want}; its forward "
            f"received tokens {sorted(seen[e])} (-1 = a row that is not a token of x). Run "
            f"each expert on its own tokens only, not on every token with a mask afterwards."
        )


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
def test_gradients_reach_the_gate_and_the_used_experts_only(solution, device):
    E, k = 5, 2
    moe = make_moe(solution, 6, 8, E, k, seed=13, device=device)
    x = make_x(moe, 1, 3, seed=14, device=device)
    logits = x.reshape(3, 6).cpu() @ weights64(moe)["gate.weight"].T
    used = set(logits.argsort(dim=-1, descending=True)[:, :k].flatten().tolist())
    assert len(used) < E, "the test needs an expert that no token chooses"

    x = x.clone().requires_grad_(True)
    y = torch.randn(x.shape, generator=torch.Generator().manual_seed(15), dtype=torch.float64)
    (moe(x) * y.to(device)).sum().backward()

    w = {n: p.requires_grad_(True) for n, p in weights64(moe).items()}
    x64 = x.detach().cpu().clone().requires_grad_(True)
    (expected(moe, x64, k, w) * y).sum().backward()

    call = describe(6, 8, E, k, x, device=device)
    for name, p in moe.named_parameters():
        want = w[name].grad.to(device)
        unused = name.startswith("experts.") and int(name.split(".")[1]) not in used
        if unused:
            assert p.grad is None or not p.grad.any(), (
                f"{call}: {name} belongs to an expert no token chose; it must get no gradient "
                f"(None or zeros), got a gradient of norm {p.grad.norm().item():.3g}"
            )
            continue
        assert p.grad is not None, f"{call}: {name} got no gradient; expected one"
        assert_close(p.grad, want, msg=lambda m, name=name: f"{call}: the gradient of {name}\n{m}")
    assert_close(x.grad, x64.grad.to(device), msg=lambda m: f"{call}: the gradient of x\n{m}")


# ---------------------------------------------------------------------------- structure


def test_the_parameters_are_named_and_shaped_as_the_contract_says(solution):
    moe = solution.MoE(dim=6, hidden_dim=10, num_experts=3, top_k=2)
    want = {"gate.weight": (3, 6)}
    for e in range(3):
        want[f"experts.{e}.w1.weight"] = (10, 6)  # dim -> hidden_dim
        want[f"experts.{e}.w2.weight"] = (6, 10)  # hidden_dim -> dim
        want[f"experts.{e}.w3.weight"] = (10, 6)  # dim -> hidden_dim
    got = {n: tuple(p.shape) for n, p in moe.named_parameters()}
    assert got == want, (
        f"MoE(dim=6, hidden_dim=10, num_experts=3, top_k=2).named_parameters() gave {got}; "
        f"expected {want} (a bias-free gate and bias-free SwiGLU experts)"
    )
    assert isinstance(moe.experts, nn.ModuleList) and len(moe.experts) == 3, (
        "MoE(...).experts must be an nn.ModuleList of num_experts experts"
    )


@pytest.mark.parametrize("top_k", [0, -1, 4, 7])
def test_top_k_outside_one_to_num_experts_raises_value_error(solution, top_k):
    with pytest.raises(ValueError):
        solution.MoE(dim=4, hidden_dim=8, num_experts=3, top_k=top_k)


def test_the_input_is_left_unchanged(solution):
    moe = make_moe(solution, 4, 8, 3, 2, seed=16)
    x = make_x(moe, 2, 3, seed=17)
    before = x.clone()
    moe(x)
    assert torch.equal(x, before), f"{describe(4, 8, 3, 2, x)} modified its input x in place"
