"""Mixture of experts: a learned gate sends each token to its top-k SwiGLU experts."""

import torch
from torch import nn


class Expert(nn.Module):
    """One expert: a bias-free SwiGLU feed-forward block (as in Llama and Mixtral).

        expert(x) = w2(silu(w1(x)) * w3(x)),    silu(z) = z * sigmoid(z)

    Args:
        dim: the model width, an int >= 1.
        hidden_dim: the width of the hidden layer, an int >= 1.

    Attributes (the tests read and overwrite them by these names):
        w1: nn.Linear(dim, hidden_dim, bias=False), the gated branch.
        w2: nn.Linear(hidden_dim, dim, bias=False), the output projection.
        w3: nn.Linear(dim, hidden_dim, bias=False), the linear branch.

    forward(x):
        x: (N, dim) token rows (any leading dims work), with the weights' dtype and device.
        Returns (N, dim) with x's dtype and device.
    """

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(torch.nn.functional.silu(self.w1(x)) * self.w3(x))  # (N, dim)


class MoE(nn.Module):
    """A sparse mixture of experts layer with top-k routing, computed per token.

    For every token x (a row of dim features), independently of every other token:

        logits = gate(x)                              # (num_experts,)
        chosen = the top_k experts with the largest logits
        w_e    = softmax(logits restricted to chosen)  for e in chosen
               = exp(logits_e) / sum_{c in chosen} exp(logits_c)
        out    = sum_{e in chosen} w_e * experts[e](x)

    The weights are renormalised over the chosen experts: they sum to 1. (Taking the softmax
    over all num_experts logits and then dividing the chosen probabilities by their sum gives
    the same numbers.) With top_k = 1 the output is the argmax expert's output times 1.0;
    with top_k = num_experts it is the dense softmax mixture of all the experts.

    Args:
        dim: the model width, an int >= 1.
        hidden_dim: the hidden width of every expert, an int >= 1.
        num_experts: how many experts, an int >= 1.
        top_k: how many experts each token is sent to, an int in [1, num_experts].

    Attributes (the tests read and overwrite them by these names):
        gate: nn.Linear(dim, num_experts, bias=False), the router.
        experts: nn.ModuleList of num_experts Expert(dim, hidden_dim) modules (above), so the
            parameters are named gate.weight, experts.0.w1.weight, experts.0.w2.weight,
            experts.0.w3.weight, experts.1.w1.weight, ... and there are no others.

    forward(x):
        x: (B, T, dim), with the parameters' dtype (float16, bfloat16, float32, float64) and
            device; B sequences of T tokens.
        Returns (B, T, dim) with x's dtype and device.

    Conventions and edge cases:
        Routing is sparse: each expert is called as a module (experts[e](rows)) on the token
        rows routed to it and on no other rows: the rows of x reshaped to (B*T, dim), gathered
        unchanged (not scaled, not cast). They may be passed in one call or in several; an
        expert that no token chose may be skipped or called on an empty (0, dim) batch. So
        running every expert on every token and masking afterwards is not allowed here.
        The routing weights are part of the autograd graph: the gate gets gradients (zeros
        when top_k = 1, where the one weight is always exactly 1), and an expert chosen by no
        token gets none (None or zeros).
        Ties between gate logits are unspecified: the tests never make two logits equal.
        The input is left unchanged.

    Raises:
        ValueError: in __init__, if top_k < 1 or top_k > num_experts; the message names
            top_k and num_experts.

    Do not use: nothing is forbidden (torch.topk, torch.softmax, index_add_ are all fine).
    """

    def __init__(self, dim: int, hidden_dim: int, num_experts: int, top_k: int) -> None:
        super().__init__()
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k must lie in [1, num_experts={num_experts}], got {top_k}")
        self.top_k = top_k
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(dim, hidden_dim) for _ in range(num_experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, dim = x.shape
        tokens = x.reshape(B * T, dim)  # (N, dim), one row per token
        logits = self.gate(tokens)  # (N, num_experts)
        top_logits, chosen = logits.topk(self.top_k, dim=-1)  # (N, k), (N, k)
        # softmax over the k chosen logits only: the weights of each token sum to 1
        weights = torch.softmax(top_logits, dim=-1)  # (N, k)

        out = torch.zeros_like(tokens)  # (N, dim)
        for e, expert in enumerate(self.experts):
            rows, slot = torch.where(chosen == e)  # tokens that chose e, and in which slot
            if rows.numel() == 0:
                continue  # no token chose e: it does no work and gets no gradient
            y = expert(tokens[rows]) * weights[rows, slot, None]  # (n_e, dim)
            out = out.index_add(0, rows, y)  # a token appears at most once per expert
        return out.reshape(B, T, dim)
