"""Wrong: keeps one preallocated key/value buffer in the layer (a "static cache") and
returns views of it: the next call writes its keys over positions that an earlier returned
cache still shows, so a cache cannot be continued in two ways (as beam search does)."""

import torch
from torch import nn


class CachedCausalSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.n_head = num_heads
        self.head_dim = embed_dim // num_heads
        self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.buffers_kv: tuple[torch.Tensor, torch.Tensor] | None = None

    def _kv_buffers(self, like: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        B, H, _, D = like.shape
        kv = self.buffers_kv
        if (
            kv is None
            or kv[0].shape[:2] != (B, H)
            or kv[0].shape[2] < length
            or (kv[0].dtype != like.dtype or kv[0].device != like.device)
        ):
            size = (B, H, max(64, 2 * length), D)
            kv = (like.new_zeros(size), like.new_zeros(size))
            self.buffers_kv = kv
        return kv

    def forward(
        self, x: torch.Tensor, past_key_value: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, E = x.shape
        H, D = self.n_head, self.head_dim
        if past_key_value is not None:
            pk, pv = past_key_value
            if pk.dim() != 4 or pv.dim() != 4 or pk.shape != pv.shape:
                raise ValueError(f"bad past shapes {tuple(pk.shape)} and {tuple(pv.shape)}")
            if (pk.shape[0], pk.shape[1], pk.shape[3]) != (B, H, D):
                raise ValueError(f"past {tuple(pk.shape)} does not fit (B, H, D) = {(B, H, D)}")
        q, k, v = self.c_attn(x).split(E, dim=2)
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, H, D).transpose(1, 2)
        v = v.view(B, T, H, D).transpose(1, 2)
        P = 0 if past_key_value is None else past_key_value[0].shape[2]
        S = P + T
        buf_k, buf_v = self._kv_buffers(k, S)
        if past_key_value is not None:
            for buf, past in zip((buf_k, buf_v), past_key_value, strict=True):
                if past.data_ptr() != buf.data_ptr():  # a cache from elsewhere: copy it in
                    buf[:, :, :P] = past
        buf_k[:, :, P:S] = k
        buf_v[:, :, P:S] = v
        k, v = buf_k[:, :, :S], buf_v[:, :, :S]
        att = (q @ k.transpose(-2, -1)) / D**0.5
        mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
        att = torch.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, E)
        return self.c_proj(y), (k, v)
