"""Multi-head attention as an nn.Module, written out by hand."""

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate query, key, value and output projections.

        Q, K, V = q_proj(query), k_proj(key), v_proj(value)     # (B, L, E), (B, S, E), (B, S, E)
        split E into num_heads heads of head_dim = E // num_heads features:
        Q_h, K_h, V_h                                           # (B, H, L, D), (B, H, S, D)
        A_h  = softmax(Q_h @ K_h^T / sqrt(head_dim) (+ float mask), over the keys S)
        O_h  = A_h @ V_h                                        # (B, H, L, D)
        out  = out_proj(the heads concatenated in order 0..H-1) # (B, L, E)

    Feature h*head_dim + d of Q (and of K, V) is feature d of head h: head h owns rows
    h*head_dim .. (h+1)*head_dim - 1 of each projection's weight, as in
    torch.nn.MultiheadAttention.

    Args:
        embed_dim: E, the size of every input and output feature vector (positive).
        num_heads: H, the number of heads (positive); E must be a multiple of H.
        bias: whether the four projections have biases.

    Parameters (state_dict keys, nothing else):
        q_proj, k_proj, v_proj, out_proj: each nn.Linear(E, E, bias=bias), so the keys are
        q_proj.weight (E, E), q_proj.bias (E,), ... out_proj.weight, out_proj.bias, and no
        .bias keys when bias=False. Their initialisation is nn.Linear's own.

    Raises:
        ValueError: in the constructor, if embed_dim is not a multiple of num_heads.

    Do not use: torch.nn.functional.scaled_dot_product_attention,
    torch.nn.MultiheadAttention, torch.nn.functional.multi_head_attention_forward, nor
    torch.ops.aten._scaled_dot_product_* (torch.softmax and nn.Linear are fine).
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        """Check that num_heads divides embed_dim, then create the four projections
        (call super().__init__() before assigning them)."""
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be a multiple of num_heads ({num_heads}): "
                f"each head gets embed_dim // num_heads features"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """Attend from every query position to the key/value positions, in every head.

        Args:
            query: (B, L, E), with the module's floating dtype and device.
            key: (B, S, E), like query. S may differ from L (cross-attention).
            value: (B, S, E), like query; key and value may be different tensors.
            attn_mask: None, or a tensor that broadcasts to (B, H, L, S) by torch's rules:
                (L, S) for every batch element and head, (B, 1, L, S) per batch element,
                (B, H, L, S) per head, (B, 1, 1, S) to hide each sequence's padding keys,
                (1, S) one row of keys for everything.
                bool: True where query i may attend to key j (not nn.MultiheadAttention's
                convention, where True forbids); floating, with query's dtype: added to the
                scaled scores (0 keeps a key, -inf forbids it, other values bias it).
                A 3-D mask is not asked for: broadcasting would read its first dim as the
                heads, not as the batch (nn.MultiheadAttention reads (B*H, L, S)).
            is_causal: query i may attend to keys 0..i only, counted from the top-left
                corner even when L != S (as torch.nn.functional.scaled_dot_product_attention
                counts). Given together with attn_mask, both restrictions apply.

        Returns:
            (B, L, E) with query's dtype and device.

        Edge cases:
            The scale is 1/sqrt(head_dim), not 1/sqrt(embed_dim). No dropout.
            A query row whose every key is forbidden has an unspecified result.
            The inputs are left unchanged.
        """
        B, L, E = query.shape
        S = key.shape[1]
        H, D = self.num_heads, self.head_dim

        # (B, T, E) -> (B, T, H, D) -> (B, H, T, D): split the features, then move the heads
        # ahead of the positions; a plain view(B, H, T, D) would mix positions and heads
        q = self.q_proj(query).view(B, L, H, D).transpose(1, 2)  # (B, H, L, D)
        k = self.k_proj(key).view(B, S, H, D).transpose(1, 2)  # (B, H, S, D)
        v = self.v_proj(value).view(B, S, H, D).transpose(1, 2)  # (B, H, S, D)

        scores = (q @ k.transpose(-2, -1)) * D**-0.5  # (B, H, L, S), per-head scale
        if is_causal:
            # top-left aligned: query i sees keys 0..i whatever L and S are
            future = torch.ones(L, S, dtype=torch.bool, device=query.device).triu(1)  # (L, S)
            scores = scores.masked_fill(future, float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(~attn_mask, float("-inf"))  # True means "may attend"
            else:
                scores = scores + attn_mask  # a bias; -inf entries forbid

        # torch.softmax subtracts each row's max before exp: large scores cannot overflow
        weights = torch.softmax(scores, dim=-1)  # (B, H, L, S)
        heads = weights @ v  # (B, H, L, D)
        # back to (B, L, H, D) before merging, so that head h fills features h*D..(h+1)*D-1
        merged = heads.transpose(1, 2).reshape(B, L, E)  # (B, L, E)
        return self.out_proj(merged)
