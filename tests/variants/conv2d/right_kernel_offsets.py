"""Right: a loop over the kH x kW kernel offsets only; each offset adds one shifted, strided
slice of the input times that tap's weights, vectorised over batch, channels and pixels."""

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = x.shape
    O, Cg, kH, kW = weight.shape
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    if C % groups or O % groups:
        raise ValueError(f"groups={groups} must divide C={C} and O={O}")
    if Cg != C // groups:
        raise ValueError(f"weight.shape[1]={Cg}, expected C/groups={C // groups}")
    if bias is not None and np.shape(bias) != (O,):
        raise ValueError(f"bias has shape {np.shape(bias)}, expected ({O},)")
    Ho = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    Wo = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    if Ho <= 0 or Wo <= 0:
        raise ValueError("kernel larger than the padded input")

    G, Og = groups, O // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    xg = xp.reshape(N, G, Cg, H + 2 * pH, W + 2 * pW)
    wg = weight.reshape(G, Og, Cg, kH, kW).astype(x.dtype, copy=False)
    out = np.zeros((N, G, Og, Ho, Wo), dtype=x.dtype)
    for p in range(kH):
        for q in range(kW):
            top, left = p * dH, q * dW
            tap = xg[
                :, :, :, top : top + sH * (Ho - 1) + 1 : sH, left : left + sW * (Wo - 1) + 1 : sW
            ]
            out += np.einsum("ngchw,goc->ngohw", tap, wg[:, :, :, p, q], optimize=True)
    out = out.reshape(N, O, Ho, Wo)
    if bias is not None:
        out += bias.astype(x.dtype)[None, :, None, None]
    return out
