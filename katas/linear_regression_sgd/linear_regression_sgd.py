"""Linear regression fitted by mini-batch stochastic gradient descent, in numpy."""

from __future__ import annotations

import numpy as np


def sgd_linear_regression(
    X: np.ndarray,
    y: np.ndarray,
    lr: float = 0.01,
    epochs: int = 100,
    batch_size: int = 1,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Fit y ~ X @ w + b by mini-batch SGD on the mean squared error.

    One step on a mini-batch B of sample indices, from the current (w, b):
        r      = X[B] @ w + b - y[B]              # (|B|,) residuals
        loss   = mean(r ** 2)                     # the batch MSE
        grad_w = 2 / |B| * X[B]^T @ r             # (D,)
        grad_b = 2 / |B| * sum(r)
        w <- w - lr * grad_w,   b <- b - lr * grad_b   (both gradients taken first)

    The order of the steps, exactly (so that any correct solution gives the same numbers):
        rng = np.random.default_rng(seed)          # created once, before the first epoch
        w, b = np.zeros(D), 0.0
        for each of the `epochs` epochs:
            order = rng.permutation(N)             # a fresh shuffle every epoch
            for start in range(0, N, batch_size):
                B = order[start : start + batch_size]   # the last batch may be smaller
                take one step on B

    Args:
        X: (N, D) features, N >= 1, any float or integer dtype.
        y: (N,) targets.
        lr: the step size.
        epochs: the number of passes over the data; 0 returns the starting zeros.
        batch_size: the mini-batch size, >= 1; batch_size >= N makes each epoch one step
            of full-batch gradient descent.
        seed: seeds the one generator that shuffles every epoch.

    Returns:
        (w, b): w a (D,) float64 array, b a Python float (np.float64 also does).

    Conventions and edge cases:
        Computed in float64. X and y are left unchanged. The last mini-batch of an epoch
        holds N % batch_size samples when batch_size does not divide N: it is used, and its
        gradient is divided by its own size |B|, not by batch_size.

    Do not use: torch (numpy only), numpy.linalg.lstsq, numpy.linalg.solve,
    numpy.linalg.pinv, numpy.linalg.inv (no closed form: this kata is about SGD).
    """
    raise NotImplementedError
