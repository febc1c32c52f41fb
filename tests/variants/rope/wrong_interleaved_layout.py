"""Wrong: GPT-J's interleaved layout, pairs (2i, 2i + 1), with tables built by
repeat_interleave and a rotate_every_two. A valid RoPE, but not the rotate-half layout the
kata (and Llama's checkpoints) use."""

import torch


def rope_cos_sin(
    head_dim: int, max_len: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    if head_dim % 2:
        raise ValueError(f"head_dim must be even, got {head_dim}")
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(max_len).float()
    freqs = torch.outer(t, inv_freq)
    emb = freqs.repeat_interleave(2, dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    if x.shape[-1] % 2:
        raise ValueError(f"odd last dim {x.shape[-1]}")
    x1 = x[..., 0::2]
    x2 = x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rope(
    x: torch.Tensor,
    cos: torch.Tensor,
    sin: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> torch.Tensor:
    seq_len, head_dim = x.shape[-2], x.shape[-1]
    if head_dim % 2:
        raise ValueError(f"odd head_dim {head_dim}")
    if cos.shape[-1] != head_dim:
        raise ValueError(f"tables for head_dim {cos.shape[-1]}, x has head_dim {head_dim}")
    if positions is None:
        if seq_len > cos.shape[0]:
            raise ValueError(f"{seq_len} rows but max_len is {cos.shape[0]}")
        positions = torch.arange(seq_len, device=x.device)
    cos = cos[positions].to(x.dtype)
    sin = sin[positions].to(x.dtype)
    return x * cos + rotate_half(x) * sin
