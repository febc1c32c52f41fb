"""Wrong: fit updates w first and then computes the bias gradient at the new w, instead
of stepping both from the same point."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def loss_and_grad(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[float, np.ndarray, float]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w)
    r = sigmoid(z) - y
    grad_w = X.T @ r / len(y) + l2 * w
    grad_b = r.mean()
    return float(loss), grad_w, float(grad_b)


class LogisticRegression:
    def __init__(self, lr: float = 0.1, n_iters: int = 1000, l2: float = 0.0) -> None:
        self.lr = lr
        self.n_iters = n_iters
        self.l2 = l2

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.w_ = np.zeros(X.shape[1])
        self.b_ = 0.0
        for _ in range(self.n_iters):
            _, grad_w, _ = loss_and_grad(self.w_, self.b_, X, y, self.l2)
            self.w_ = self.w_ - self.lr * grad_w
            _, _, grad_b = loss_and_grad(self.w_, self.b_, X, y, self.l2)
            self.b_ = self.b_ - self.lr * grad_b
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(np.asarray(X, dtype=np.float64) @ self.w_ + self.b_)

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X) >= threshold).astype(np.int64)
