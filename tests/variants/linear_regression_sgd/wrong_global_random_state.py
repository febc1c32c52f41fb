"""Wrong: shuffles with the global np.random.permutation (never seeded from `seed`),
so the order ignores the seed."""

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
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    for _ in range(epochs):
        order = np.random.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            Xb, yb = X[batch], y[batch]
            r = Xb @ w + b - yb
            grad_w = 2.0 / len(batch) * (Xb.T @ r)
            grad_b = 2.0 / len(batch) * r.sum()
            w, b = w - lr * grad_w, b - lr * grad_b
    return w, float(b)
