"""GPT-2's causal self-attention block, written out by hand."""

import torch
from torch import nn


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused q, k, v projection, as in GPT-2.

        q, k, v = c_attn(x) split into three E-wide parts, in that order   # each (B, T, E)
        each of q, k, v split into H heads of D = E // H features          # (B, H, T, D)
        scores  = q @ k^T / sqrt(D), forbidden where key s > query t       # (B, H, T, T)
        weights = softmax(scores over the keys)
        y       = weights @ v, the heads joined back side by side          # (B, T, E)
        out     = c_proj(y)                                                # (B, T, E)

    Args:
        embed_dim: E, the size of each token's vector.
        num_heads: H >= 1; E must be a multiple of H, and each head has D = E // H.
        bias: whether c_attn and c_proj have biases.

    Attributes:
        c_attn: nn.Linear(embed_dim, 3 * embed_dim, bias=bias). The last dim of its output
            holds q in columns 0..E-1, k in E..2E-1 and v in 2E..3E-1.
        c_proj: nn.Linear(embed_dim, embed_dim, bias=bias), applied to the joined heads.

    Conventions:
        Head h is made of features h*D .. (h+1)*D - 1 of q, of k and of v, and its result
        goes back to features h*D .. (h+1)*D - 1 of y, as in GPT-2 and in
        torch.nn.MultiheadAttention (whose in_proj_weight is laid out as c_attn's weight).
        The module has no parameters and no persistent buffers besides those of c_attn and
        c_proj: its state_dict keys are exactly c_attn.weight, c_attn.bias, c_proj.weight
        and c_proj.bias (only the two weights when bias=False), so GPT-2 weights load as
        they are. A causal mask may be built in forward or kept in a buffer registered with
        persistent=False. There is no dropout.

    Raises:
        ValueError: in the constructor, if embed_dim is not a multiple of num_heads; the
            message names both numbers.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward (nor the
    torch.ops.aten / torch._C forms of scaled dot-product attention).
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be a multiple of num_heads ({num_heads})"
            )
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)  # q, k, v side by side
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Causal self-attention over the tokens of each sequence.

        Args:
            x: (B, T, E) a batch of B sequences of T >= 1 tokens, with the module's dtype
                (float16, bfloat16, float32 or float64) and device.

        Returns:
            (B, T, E) with x's dtype and device. Token t attends to tokens 0..t only, so
            out[:, t] does not depend on x[:, t+1:] at all (its gradient there is exactly
            zero) and a single token (T = 1) attends to itself alone. x is left unchanged.
        """
        B, T, E = x.shape
        H, D = self.num_heads, self.head_dim
        q, k, v = self.c_attn(x).split(E, dim=-1)  # each (B, T, E)
        # (B, T, E) -> (B, T, H, D) -> (B, H, T, D): a plain view to (B, H, T, D) would
        # mix the tokens of different heads
        q = q.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        v = v.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)

        scores = (q @ k.transpose(-2, -1)) * D**-0.5  # (B, H, T, T); 1/sqrt(D), not 1/sqrt(E)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # key s > query t
        # -inf, not 0: exp(-inf) = 0 gives the future exactly zero weight; torch.softmax
        # subtracts each row's max first, and the diagonal is never masked, so no row is empty
        weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # (B, H, T, T)

        y = weights @ v  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, E)  # (B, T, H, D) -> (B, T, E), head h at h*D
        return self.c_proj(y)  # (B, T, E)
