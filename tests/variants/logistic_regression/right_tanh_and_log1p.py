"""Right: sigmoid as 0.5 * (1 + tanh(z / 2)) (tanh saturates to +-1 without overflow), the
log-loss as max(z, 0) + log1p(exp(-|z|)) - y z, and einsum for the products."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def loss_and_grad(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[float, np.ndarray, float]:
    X, y, w = (np.asarray(a, dtype=np.float64) for a in (X, y, w))
    z = np.einsum("nd,d->n", X, w) + b
    softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^z)
    n = X.shape[0]
    loss = np.sum(softplus - y * z) / n + l2 / 2 * np.einsum("d,d->", w, w)
    r = sigmoid(z) - y
    return float(loss), np.einsum("nd,n->d", X, r) / n + l2 * w, float(np.sum(r) / n)


class LogisticRegression:
    def __init__(self, lr: float = 0.1, n_iters: int = 1000, l2: float = 0.0) -> None:
        self.lr, self.n_iters, self.l2 = lr, n_iters, l2

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        w, b = np.zeros(X.shape[1]), 0.0
        step = 0
        while step < self.n_iters:
            r = sigmoid(X @ w + b) - y
            w, b = w - self.lr * (X.T @ r / len(y) + self.l2 * w), b - self.lr * float(r.mean())
            step += 1
        self.w_, self.b_ = w, float(b)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(np.asarray(X, dtype=np.float64) @ self.w_ + self.b_)

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return np.where(self.predict_proba(X) < threshold, 0, 1)
