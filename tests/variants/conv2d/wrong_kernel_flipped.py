"""Wrong: flips the kernel (a true convolution, as in signal processing); deep-learning
conv2d is a cross-correlation, with no flip."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return (int(v), int(v)) if isinstance(v, int | np.integer) else (int(v[0]), int(v[1]))


def _check(x, weight, bias, groups, eH, eW, pH, pW):
    _, C, H, W = x.shape
    O, Cg = weight.shape[:2]
    if C % groups or O % groups:
        raise ValueError(f"C={C} and O={O} must be multiples of groups={groups}")
    if Cg != C // groups:
        raise ValueError(f"weight has {Cg} input channels, expected {C // groups}")
    if bias is not None and np.shape(bias) != (O,):
        raise ValueError(f"bias shape {np.shape(bias)} is not ({O},)")
    if eH > H + 2 * pH or eW > W + 2 * pW:
        raise ValueError("the dilated kernel is larger than the padded input")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x = np.asarray(x)
    weight = np.asarray(weight, dtype=x.dtype)
    N = x.shape[0]
    O, Cg, kH, kW = weight.shape
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    eH, eW = dH * (kH - 1) + 1, dW * (kW - 1) + 1
    _check(x, weight, bias, groups, eH, eW, pH, pW)
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    win = sliding_window_view(xp, (eH, eW), axis=(2, 3))[:, :, ::sH, ::sW, ::dH, ::dW]
    Og = O // groups
    out = np.empty((N, O, *win.shape[2:4]), dtype=x.dtype)
    for g in range(groups):
        xs = win[:, g * Cg : (g + 1) * Cg]
        ws = weight[g * Og : (g + 1) * Og, :, ::-1, ::-1]  # rotated by 180 degrees
        out[:, g * Og : (g + 1) * Og] = np.einsum("nchwpq,ocpq->nohw", xs, ws, optimize=True)
    if bias is not None:
        out += np.asarray(bias, dtype=x.dtype)[None, :, None, None]
    return out
