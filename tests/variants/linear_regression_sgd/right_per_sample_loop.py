"""Right: the batch gradient accumulated one sample at a time in a Python loop, with
plain floats for the bias (slow for large data, but the same steps)."""

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
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    b = 0.0
    for _epoch in range(epochs):
        order = rng.permutation(n).tolist()
        while order:
            batch, order = order[:batch_size], order[batch_size:]
            gw = np.zeros(d)
            gb = 0.0
            for i in batch:
                residual = float(np.dot(X[i], w)) + b - float(y[i])
                gw += 2.0 * residual * X[i]
                gb += 2.0 * residual
            w = w - lr * gw / len(batch)
            b = b - lr * gb / len(batch)
    return w, b
