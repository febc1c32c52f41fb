"""Grouped-query and multi-query attention: query heads share fewer key/value heads."""

import torch
from torch import nn


class GroupedQueryAttention(nn.Module):
    """Self-attention in which each group of query heads shares one key/value head (GQA).

    With D = embed_dim // num_heads (the head size) and G = num_heads // num_kv_heads
    (query heads per key/value head):

        q = q_proj(x), split into num_heads heads of size D      # (B, num_heads, T, D)
        k = k_proj(x), split into num_kv_heads heads of size D   # (B, num_kv_heads, T, D)
        v = v_proj(x), split likewise                            # (B, num_kv_heads, T, D)
        query head h attends with key/value head g = h // G:
            out_h = softmax(q_h @ k_g^T / sqrt(D) (+ the float mask), over keys) @ v_g
        out = o_proj(out_0, ..., out_{num_heads-1} side by side)  # (B, T, embed_dim)

    num_kv_heads == num_heads is ordinary multi-head attention; num_kv_heads == 1 is
    multi-query attention (MultiQueryAttention below).

    Args:
        embed_dim: E, the size of each token's vector (a positive int).
        num_heads: the number of query heads (a positive int).
        num_kv_heads: the number of key/value heads (a positive int).
        bias: whether all four projections have a bias; False by default, as in Llama.

    Parameters (their names and shapes are part of the contract; there are no others):
        q_proj: nn.Linear(embed_dim, embed_dim, bias=bias); rows h*D:(h+1)*D of its weight
            make query head h.
        k_proj, v_proj: nn.Linear(embed_dim, num_kv_heads * D, bias=bias); rows
            g*D:(g+1)*D of each weight make key/value head g. These are the only key and
            value weights: a group of query heads really shares them.
        o_proj: nn.Linear(embed_dim, embed_dim, bias=bias); its input columns h*D:(h+1)*D
            read the output of query head h.

    Conventions:
        Grouping: query head h uses key/value head h // G, so consecutive query heads share
        one (heads 0..G-1 use kv head 0, heads G..2G-1 kv head 1, ...), as Llama's repeat_kv
        and torch.repeat_interleave(k, G, dim=1) arrange them, not h % num_kv_heads (which
        Tensor.repeat would give).
        Scale: 1 / sqrt(D), the head size, not 1 / sqrt(embed_dim).

    Raises:
        ValueError: from the constructor, if embed_dim is not divisible by num_heads, or
            num_heads is not divisible by num_kv_heads (so also when num_kv_heads >
            num_heads); the message names the two numbers.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward (nor the
    torch.ops.aten / torch._C forms of scaled dot-product attention).
    """

    def __init__(
        self, embed_dim: int, num_heads: int, num_kv_heads: int, bias: bool = False
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if num_heads % num_kv_heads != 0:
            raise ValueError(
                f"num_heads ({num_heads}) must be divisible by num_kv_heads ({num_kv_heads})"
            )
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = embed_dim // num_heads
        # the whole saving: k and v are num_heads / num_kv_heads times smaller than q
        kv_dim = num_kv_heads * self.head_dim
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.o_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """Attend from every position of x to every allowed position of x.

        Args:
            x: (B, T, embed_dim), with the module's dtype (float16, bfloat16, float32 or
                float64) and device. Left unchanged.
            attn_mask: None, or a tensor broadcastable to the scores (B, num_heads, T, T)
                with the usual right-aligned broadcasting: (T, T) for every batch element
                and head, (B, 1, T, T) per batch element, (B, num_heads, T, T) per query
                head, (B, 1, 1, T) to hide padding keys, (num_heads, 1, T) per head, ...
                (a 3-D (B, T, T) mask would line B up with the heads: write (B, 1, T, T)).
                bool: True where query i may attend to key j, False where it may not.
                floating (x's dtype): added to the scaled scores (0 keeps a key, -inf
                forbids it, any other value biases it).
            is_causal: query i may attend to keys 0..i only. Given together with
                attn_mask, both restrictions apply.

        Returns:
            (B, T, embed_dim), with x's dtype and device.

        Precision: float16 and bfloat16 may be computed partly in float32 (Llama takes its
        softmax in float32) and are compared loosely; float64 must stay float64 throughout
        (it is compared to about 1e-7). A query whose every key is forbidden has an
        unspecified result.
        """
        B, T, E = x.shape
        H, KV, D = self.num_heads, self.num_kv_heads, self.head_dim
        q = self.q_proj(x).view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, KV, D).transpose(1, 2)  # (B, KV, T, D)
        v = self.v_proj(x).view(B, T, KV, D).transpose(1, 2)  # (B, KV, T, D)
        # query head h reads kv head h // G: repeat each kv head G times in place (0, 0, 1, 1)
        # rather than tiling the whole stack (0, 1, 0, 1), which is what Tensor.repeat does
        k = k.repeat_interleave(H // KV, dim=1)  # (B, H, T, D)
        v = v.repeat_interleave(H // KV, dim=1)  # (B, H, T, D)

        scores = (q @ k.transpose(-2, -1)) * D**-0.5  # (B, H, T, T), scaled by the head size
        if is_causal:
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # (T, T)
            scores = scores.masked_fill(future, float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(~attn_mask, float("-inf"))  # True means "may attend"
            else:
                scores = scores + attn_mask  # a bias; -inf entries forbid
        # torch.softmax subtracts each row's max, so large scores cannot overflow
        weights = torch.softmax(scores, dim=-1)  # (B, H, T, T)

        heads = (weights @ v).transpose(1, 2).reshape(B, T, E)  # (B, T, E): heads side by side
        return self.o_proj(heads)


class MultiQueryAttention(GroupedQueryAttention):
    """Multi-query attention (MQA): every query head shares a single key/value head.

    Exactly GroupedQueryAttention(embed_dim, num_heads, num_kv_heads=1, bias): the same
    parameters q_proj, k_proj, v_proj and o_proj, with k_proj and v_proj
    nn.Linear(embed_dim, embed_dim // num_heads, bias=bias), and the same forward.

    Raises:
        ValueError: if embed_dim is not divisible by num_heads; the message names both.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__(embed_dim, num_heads, num_kv_heads=1, bias=bias)
