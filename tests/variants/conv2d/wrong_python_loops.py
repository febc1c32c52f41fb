"""Wrong (too slow): the textbook four nested loops over images, output channels and output
pixels, each output value a sum over one window: right answers, minutes for a ResNet layer."""

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = x.shape
    O, Cg, kH, kW = weight.shape
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    if C % groups or O % groups or Cg != C // groups:
        raise ValueError("channels and groups do not match")
    if bias is not None and np.shape(bias) != (O,):
        raise ValueError("bias must have shape (O,)")
    Ho = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    Wo = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    if Ho < 1 or Wo < 1:
        raise ValueError("kernel larger than the padded input")
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    out = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    Og = O // groups
    for n in range(N):
        for o in range(O):
            g = o // Og
            channels = xp[n, g * Cg : (g + 1) * Cg]
            for i in range(Ho):
                for j in range(Wo):
                    window = channels[
                        :,
                        i * sH : i * sH + dH * (kH - 1) + 1 : dH,
                        j * sW : j * sW + dW * (kW - 1) + 1 : dW,
                    ]
                    out[n, o, i, j] = np.sum(window * weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out
