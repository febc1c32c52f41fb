"""2-D convolution (cross-correlation, as in deep learning) with stride, padding, dilation and
groups, vectorised in numpy with a sliding-window view and one einsum per group."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """torch.nn.functional.conv2d in numpy: a cross-correlation (the kernel is not flipped).

        out[n, o, i, j] = bias[o] + sum over c in group g(o), p < kH, q < kW of
            weight[o, c - g(o)·C/groups, p, q] · xpad[n, c, i·sH + p·dH, j·sW + q·dW]
        where xpad is x with pH zero rows above and below and pW zero columns left and right,
        and output channel o belongs to group g(o) = o // (O / groups), which sees the input
        channels g·C/groups .. (g+1)·C/groups - 1.

        Ho = floor((H + 2·pH - dH·(kH - 1) - 1) / sH) + 1
        Wo = floor((W + 2·pW - dW·(kW - 1) - 1) / sW) + 1

    Args:
        x: (N, C, H, W) input, float32 or float64; any strides (a transposed view is fine).
        weight: (O, C / groups, kH, kW) kernels, with x's dtype.
        bias: None, or (O,) added to every output position of channel o.
        stride: sH, sW >= 1; an int means (int, int).
        padding: pH, pW >= 0 zeros on both sides; an int means (int, int).
        dilation: dH, dW >= 1, the step between kernel taps; an int means (int, int).
        groups: >= 1; C and O must both be multiples of it (groups = C is a depthwise
            convolution).

    Returns:
        (N, O, Ho, Wo) with x's dtype (float32 in, float32 out: compute in x's dtype, do not
        promote to float64). x, weight and bias are left unchanged.

    Conventions and edge cases:
        A kernel as large as the padded input gives a 1 x 1 output. Invalid values of stride,
        padding or dilation (zero, negative) are never tested. Memory: an im2col buffer holds
        N·Ho·Wo·(C/groups)·kH·kW numbers, about 230 MB in float32 for the tests' largest
        case (32·56·56·576; it is twice that in float64): one such buffer is fine, several
        at once are not.

    Raises:
        ValueError: if x or weight is not 4-D; if C or O is not a multiple of groups; if
            weight.shape[1] != C / groups; if bias is given and its shape is not (O,); if the
            dilated kernel dH·(kH - 1) + 1 (or dW·(kW - 1) + 1) is larger than the padded
            input H + 2·pH (or W + 2·pW), so that the output would be empty.

    Do not use: torch (numpy only), scipy.signal, scipy.ndimage.
    """
    x = np.asarray(x)
    weight = np.asarray(weight, dtype=x.dtype)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"x and weight must be 4-D, got shapes {x.shape} and {weight.shape}")
    N, C, H, W = x.shape
    O, Cg, kH, kW = weight.shape
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    if C % groups or O % groups:
        raise ValueError(f"C = {C} and O = {O} must both be multiples of groups = {groups}")
    if Cg != C // groups:
        raise ValueError(f"weight has {Cg} input channels, expected C / groups = {C // groups}")
    if bias is not None and np.shape(bias) != (O,):
        raise ValueError(f"bias must have shape ({O},), not {np.shape(bias)}")
    eH, eW = dH * (kH - 1) + 1, dW * (kW - 1) + 1  # the dilated kernel's extent
    if eH > H + 2 * pH or eW > W + 2 * pW:
        raise ValueError(
            f"the dilated kernel ({eH}, {eW}) is larger than the padded input "
            f"({H + 2 * pH}, {W + 2 * pW})"
        )

    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))  # zeros on both sides
    # every eH x eW window (a view, no copy), then every dH-th tap of a window and every
    # sH-th window: windows[n, c, i, j, p, q] = xp[n, c, i*sH + p*dH, j*sW + q*dW]
    windows = sliding_window_view(xp, (eH, eW), axis=(2, 3))  # (N, C, H', W', eH, eW)
    windows = windows[:, :, ::sH, ::sW, ::dH, ::dW]  # (N, C, Ho, Wo, kH, kW)
    Ho, Wo = windows.shape[2:4]  # floor((H + 2pH - eH) / sH) + 1, and the same for W

    Og = O // groups
    out = np.empty((N, O, Ho, Wo), dtype=x.dtype)
    for g in range(groups):  # each group: its own input channels, its own output channels
        xs = windows[:, g * Cg : (g + 1) * Cg]  # (N, Cg, Ho, Wo, kH, kW)
        ws = weight[g * Og : (g + 1) * Og]  # (Og, Cg, kH, kW)
        # a cross-correlation: tap (p, q) meets weight[..., p, q], no flip; optimize=True
        # hands the sum over (c, p, q) to one matrix product (an im2col copy inside)
        out[:, g * Og : (g + 1) * Og] = np.einsum("nchwpq,ocpq->nohw", xs, ws, optimize=True)
    if bias is not None:
        out += np.asarray(bias, dtype=x.dtype)[None, :, None, None]
    return out


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, int | np.integer):
        return int(value), int(value)
    h, w = value
    return int(h), int(w)
