"""Right: im2col by index arithmetic (one gather of every window into a matrix of columns),
then one batched matrix product per group."""

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = x.shape
    O, Cg, kH, kW = weight.shape
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    if C % groups != 0 or O % groups != 0 or Cg * groups != C:
        raise ValueError("C and O must be multiples of groups, and weight must hold C/groups")
    if bias is not None and bias.shape != (O,):
        raise ValueError("bias must have one value per output channel")
    Ho = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    Wo = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    if Ho < 1 or Wo < 1:
        raise ValueError("the dilated kernel does not fit in the padded input")

    xp = np.zeros((N, C, H + 2 * pH, W + 2 * pW), dtype=x.dtype)
    xp[:, :, pH : pH + H, pW : pW + W] = x
    # rows[i, p] = i*sH + p*dH, cols[j, q] = j*sW + q*dW
    rows = (np.arange(Ho) * sH)[:, None] + (np.arange(kH) * dH)[None, :]  # (Ho, kH)
    cols = (np.arange(Wo) * sW)[:, None] + (np.arange(kW) * dW)[None, :]  # (Wo, kW)
    patches = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (N, C, Ho, Wo, kH, kW)
    patches = patches.reshape(N, groups, Cg, Ho * Wo, kH * kW)
    columns = patches.transpose(1, 0, 3, 2, 4).reshape(groups, N * Ho * Wo, Cg * kH * kW)
    kernels = weight.reshape(groups, O // groups, Cg * kH * kW).transpose(0, 2, 1)
    out = columns @ kernels  # (groups, N*Ho*Wo, O/groups)
    out = out.reshape(groups, N, Ho, Wo, O // groups).transpose(1, 0, 4, 2, 3)
    out = out.reshape(N, O, Ho, Wo)
    if bias is not None:
        out = out + bias.reshape(1, O, 1, 1).astype(x.dtype)
    return out.astype(x.dtype, copy=False)
