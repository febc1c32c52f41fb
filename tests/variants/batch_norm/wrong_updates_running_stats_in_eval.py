"""Wrong: updates the running statistics (and num_batches_tracked) in eval mode too, with the
batch's statistics, before normalising with them."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class BatchNorm(nn.Module):
    """Batch normalisation over every dim but the channels, as nn.BatchNorm1d/2d do.

    Training mode (module.train(), the default), per channel c, over the M elements of
    x[:, c, ...] (M = N, N*L or N*H*W):
        mean_c = sum(x) / M
        var_c  = sum((x - mean_c)^2) / M                       (biased: divide by M)
        out    = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
        running_mean <- (1 - momentum) * running_mean + momentum * mean_c
        running_var  <- (1 - momentum) * running_var + momentum * var_c * M / (M - 1)
                                                               (unbiased: divide by M - 1)
        num_batches_tracked <- num_batches_tracked + 1
    Eval mode (module.eval()): no statistics of the batch at all, no update of anything:
        out = (x - running_mean_c) / sqrt(running_var_c + eps) * weight_c + bias_c

    Args:
        num_features: C, the number of channels (dim 1 of the input).
        eps: added to the variance under the square root, > 0.
        momentum: the weight of the new batch in the running statistics, in [0, 1]
            (PyTorch's convention: 0.1 keeps 90% of the old value). None means a
            cumulative moving average, as in PyTorch: the weight of the new batch is
            1 / num_batches_tracked (after the increment), so the running statistics are
            the plain average of the statistics of every batch seen so far.

    Parameters and buffers (the tests read them, and load and save the state_dict, by
    these names; the state_dict holds exactly these five keys, as nn.BatchNorm1d's does):
        weight: nn.Parameter (C,), initialised to ones.
        bias: nn.Parameter (C,), initialised to zeros.
        running_mean: buffer (C,), initialised to zeros.
        running_var: buffer (C,), initialised to ones.
        num_batches_tracked: buffer, a 0-dim torch.long tensor, initialised to 0.
        The floating ones are float32 at construction and follow module.to(dtype/device).

    forward(x):
        x: (N, C), (N, C, L) or (N, C, H, W), with the module's dtype and device (float16,
            bfloat16, float32, float64).
        Returns a tensor of x's shape, dtype and device. The output is differentiable with
        respect to x, weight and bias (in training mode through the batch statistics too);
        the running statistics are updated outside the autograd graph (they never require
        grad). The input is left unchanged.

    Raises (before any statistic is updated):
        ValueError: if x is not 2-, 3- or 4-D; if x.shape[1] != num_features (the
            message names both sizes); in training mode, if there is only one value per
            channel (M == 1: the unbiased variance is undefined), as PyTorch does.
            A batch of one is fine in eval mode.

    Do not use: torch.nn.functional.batch_norm, torch.nn.BatchNorm1d/2d/3d (any
    torch.nn.BatchNorm*), torch.batch_norm, torch.nn.functional.instance_norm,
    torch.var_mean. Tensor.mean and Tensor.var are fine.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1) -> None:
        """Register weight, bias, running_mean, running_var and num_batches_tracked."""
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, *) -> (N, C, *): batch statistics in training mode, running ones in eval."""
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"BatchNorm expects a 2-, 3- or 4-D input, got {x.ndim}-D")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm({self.num_features}) got an input with {x.shape[1]} channels"
            )
        dims = [d for d in range(x.ndim) if d != 1]  # every dim but the channels
        shape = [1, -1] + [1] * (x.ndim - 2)  # broadcasts a (C,) vector against x
        if True:
            count = x.numel() // x.shape[1]  # M values per channel
            if count == 1:
                raise ValueError("BatchNorm needs more than 1 value per channel when training")
            mean = x.mean(dim=dims)  # (C,)
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)  # (C,), biased: normalises
            with torch.no_grad():  # the running statistics stay out of the graph
                self.num_batches_tracked += 1
                m = 1 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * count / (count - 1))  # unbiased
        else:
            pass
        if not self.training:
            mean, var = self.running_mean, self.running_var
        inv_std = torch.rsqrt(var + self.eps)  # (C,)
        x_hat = (x - mean.view(shape)) * inv_std.view(shape)  # (N, C, *)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)


def batch_norm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, Any]:
    """The training-mode forward pass of batch norm on (N, D) features, in numpy.

        mean = x.mean(axis=0)                  # (D,)
        var  = ((x - mean)^2).mean(axis=0)     # (D,), biased
        out  = (x - mean) / sqrt(var + eps) * gamma + beta

    Args:
        x: (N, D) float64 (or float32), N >= 2.
        gamma: (D,) scale, x's dtype.
        beta: (D,) shift, x's dtype.
        eps: added to the variance under the square root, > 0.

    Returns:
        (out, cache): out (N, D) with x's dtype; cache is anything you like (a tuple of
        arrays, a dict): the tests only pass it back to batch_norm_backward unchanged.

    No running statistics here. The inputs are left unchanged.

    Do not use: torch (numpy only).
    """
    mean = x.mean(axis=0)  # (D,)
    centred = x - mean  # (N, D)
    var = (centred**2).mean(axis=0)  # (D,), biased
    inv_std = 1 / np.sqrt(var + eps)  # (D,)
    x_hat = centred * inv_std  # (N, D)
    out = x_hat * gamma + beta
    return out, (x_hat, inv_std, gamma)


def batch_norm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward pass of batch_norm_forward, in numpy.

    Given dout = dL/dout (N, D) and the cache that batch_norm_forward returned, the
    gradients of L with respect to its inputs, where the batch mean and variance are
    themselves functions of x (every element of x moves every output of its column).

    Args:
        dout: (N, D), the upstream gradient, x's dtype.
        cache: what batch_norm_forward returned with the out that dout belongs to.

    Returns:
        (dx, dgamma, dbeta): dx (N, D), dgamma (D,), dbeta (D,), all with x's dtype.

    The inputs are left unchanged.

    Do not use: torch (numpy only).
    """
    x_hat, inv_std, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * x_hat).sum(axis=0)  # (D,)
    dx_hat = dout * gamma  # (N, D)
    # x_hat = (x - mean) * inv_std, where mean and inv_std depend on every x of the column:
    # the chain rule through var and mean adds the two mean terms below.
    dvar = -0.5 * (dx_hat * x_hat).sum(axis=0) * inv_std**2  # (D,), dL/dvar
    dmean = -(dx_hat * inv_std).sum(axis=0)  # (D,), the path through var sums to 0
    centred = x_hat / inv_std  # (N, D), x - mean
    dx = dx_hat * inv_std + dvar * 2 * centred / n + dmean / n  # (N, D)
    return dx, dgamma, dbeta
