"""Right: the bias as one more weight on a column of ones, theta = [w, b], with the batch
gradient 2/|B| A_B^T (A_B theta - y_B) in one product, and the batches cut by np.split."""

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
    A = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(len(X))])  # (N, D + 1)
    t = np.asarray(y, dtype=np.float64)
    n = len(A)
    rng = np.random.default_rng(seed)
    theta = np.zeros(A.shape[1])
    cuts = np.arange(batch_size, n, batch_size)  # batch boundaries: the last may be short
    for _ in range(epochs):
        for batch in np.split(rng.permutation(n), cuts):
            Ab = A[batch]
            theta -= lr * 2.0 / len(batch) * np.einsum("bk,b->k", Ab, Ab @ theta - t[batch])
    return theta[:-1].copy(), float(theta[-1])
