"""Right: a sigmoid that exponentiates each half only where it is safe (boolean masks, not
np.where on both branches), the loss as -y log sigma(z) - (1 - y) log sigma(-z) with
log sigma(z) = -logaddexp(0, -z), and fit on [X, 1] with one parameter vector."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def loss_and_grad(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[float, np.ndarray, float]:
    X, y, w = (np.asarray(a, dtype=np.float64) for a in (X, y, w))
    z = X @ w + b
    nll = -(y * _log_sigmoid(z) + (1.0 - y) * _log_sigmoid(-z))
    loss = nll.mean() + l2 / 2 * np.sum(w**2)
    r = (sigmoid(z) - y) / len(y)
    return float(loss), r @ X + l2 * w, float(r.sum())


class LogisticRegression:
    def __init__(self, lr: float = 0.1, n_iters: int = 1000, l2: float = 0.0) -> None:
        self.lr = lr
        self.n_iters = n_iters
        self.l2 = l2

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        X1 = np.hstack([X, np.ones((len(X), 1))])  # (N, D + 1): the bias is the last weight
        penalised = np.append(np.full(X.shape[1], self.l2), 0.0)  # no penalty on the bias
        theta = np.zeros(X1.shape[1])
        for _ in range(self.n_iters):
            grad = X1.T @ (sigmoid(X1 @ theta) - y) / len(y) + penalised * theta
            theta -= self.lr * grad
        self.w_, self.b_ = theta[:-1].copy(), float(theta[-1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(np.asarray(X, dtype=np.float64) @ self.w_ + self.b_)

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X) >= threshold).astype(int)
