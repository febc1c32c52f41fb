"""Absolute position encodings: the fixed sinusoids of "Attention Is All You Need" and a
learned table, each added to a batch of token embeddings."""

import torch
from torch import nn


def sinusoidal_position_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The table of sinusoidal position encodings, one row per position.

        pe[pos, 2i]     = sin(pos / base^(2i / d_model))
        pe[pos, 2i + 1] = cos(pos / base^(2i / d_model))        for 0 <= i < d_model / 2

    Columns 2i and 2i + 1 share one frequency, 1 / base^(2i / d_model): from 1 radian per
    position in columns 0 and 1 down to almost 1 / base in the last pair. Sine and cosine
    are interleaved (sin in every even column, cos in every odd one), not sin in the first
    half and cos in the second.

    Args:
        max_len: the number of positions (rows), at least 1.
        d_model: the number of features (columns), a positive even integer.
        base: the base of the geometric progression of wavelengths (10000 in the paper).

    Returns:
        pe: (max_len, d_model), float32, on the CPU. Row 0 is [0, 1, 0, 1, ...].

    Precision: the angles grow to about max_len radians, so float32 arithmetic loses
    about max_len * 1e-7 in them. Computing in float64 and rounding to float32 once is
    best; the tests accept float32 arithmetic too (an error of up to 1e-6 + max_len * 5e-7).

    Raises:
        ValueError: if d_model is odd (a sine needs its cosine); the message names d_model.

    Do not use: nothing is forbidden.
    """
    raise NotImplementedError


class SinusoidalPositionEncoding(nn.Module):
    """Adds the fixed sinusoidal table to a batch of embeddings.

        out[b, t, :] = x[b, t, :] + pe[t, :]

    Args:
        d_model: the number of features per position, a positive even integer.
        max_len: the longest sequence forward accepts (default 5000).

    Attributes:
        pe: a buffer, not a parameter: (max_len, d_model), float32, equal to
            sinusoidal_position_encoding(max_len, d_model). Registered with
            register_buffer (persistent), so .to() moves it, the state_dict saves it and no
            optimiser sees it. The module has no parameters; its state_dict holds exactly
            "pe".

    forward(x):
        x: (B, T, d_model) with 1 <= T <= max_len, any float dtype, on the module's device.
        Returns (B, T, d_model) = x + pe[:T], with x's dtype and device: pe is cast to x's
        dtype first, so a float32 module serves bfloat16 input and returns bfloat16. No
        dropout (the caller applies it). The input is left unchanged.

    Raises:
        ValueError: in the constructor if d_model is odd; in forward if T > max_len (the
            message names both).

    Do not use: nothing is forbidden.
    """

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        """Build the buffer pe, (max_len, d_model)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, T, d_model)."""
        raise NotImplementedError


class LearnablePositionEncoding(nn.Module):
    """Adds a learned table of position embeddings (GPT-2's wpe, BERT's position
    embeddings) to a batch of embeddings.

        out[b, t, :] = x[b, t, :] + pe[t, :]

    Args:
        d_model: the number of features per position, a positive even integer (even, for
            symmetry with the sinusoidal table, so either can replace the other).
        max_len: the longest sequence forward accepts (no default).

    Attributes:
        pe: an nn.Parameter (max_len, d_model), float32, initialised from N(0, 0.02²) (mean
            0, std 0.02, as GPT-2 initialises wpe) with torch's global generator, so
            torch.manual_seed makes it reproducible. The module has no buffers; its
            state_dict holds exactly "pe".

    forward(x):
        x: (B, T, d_model) with 1 <= T <= max_len, any float dtype, on the module's device.
        Returns (B, T, d_model) = x + pe[:T], with x's dtype and device (pe is cast to x's
        dtype first). Only rows 0..T-1 of pe take part, so rows T.. get zero gradient. The
        input is left unchanged.

    Raises:
        ValueError: in the constructor if d_model is odd; in forward if T > max_len (the
            message names both).

    Do not use: nothing is forbidden.
    """

    def __init__(self, d_model: int, max_len: int) -> None:
        """Build the parameter pe, (max_len, d_model), drawn from N(0, 0.02²)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, T, d_model)."""
        raise NotImplementedError
