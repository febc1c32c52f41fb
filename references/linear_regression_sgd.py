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
    X = np.asarray(X, dtype=np.float64)  # (N, D)
    y = np.asarray(y, dtype=np.float64)  # (N,)
    n, d = X.shape
    rng = np.random.default_rng(seed)  # once: each epoch draws a new permutation from it
    w, b = np.zeros(d), 0.0  # (D,), scalar
    for _ in range(epochs):
        order = rng.permutation(n)  # (N,)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]  # (|B|,) the last may be short
            Xb, yb = X[batch], y[batch]  # (|B|, D), (|B|,)
            r = Xb @ w + b - yb  # (|B|,) residuals
            scale = 2.0 / len(batch)  # d/dr of mean(r²) over this batch's own size
            grad_w = scale * (Xb.T @ r)  # (D,)
            grad_b = scale * r.sum()
            w, b = w - lr * grad_w, b - lr * grad_b  # both from the same (w, b)
    return w, float(b)
