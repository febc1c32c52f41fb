"""Binary logistic regression in numpy: a stable sigmoid, the L2-regularised mean log-loss
with its gradients, and a classifier fitted by full-batch gradient descent."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise, computed stably.

        sigmoid(z) = 1 / (1 + exp(-z))

    Args:
        z: (...) array of real numbers, any float or integer dtype, any shape.

    Returns:
        (...) float64 array of z's shape, every entry in [0, 1].

    Conventions and edge cases:
        No RuntimeWarning (overflow, invalid value) for any finite z: exp(-z) overflows for
        z < -709, so never exponentiate a large positive number.
        sigmoid(-1000) is exactly 0.0 and sigmoid(1000) exactly 1.0 (clipping z to some
        range first does not give these); sigmoid(0) is exactly 0.5; sigmoid(30) and
        sigmoid(-30) are 1 - 9.36e-14 and 9.36e-14, each to within 1e-15.

    Do not use: torch (numpy only), sklearn, scipy.special (expit).
    """
    z = np.asarray(z, dtype=np.float64)  # (...)
    # exp(-|z|) is in (0, 1]: it can underflow to 0 (giving exact 0 and 1), never overflow
    e = np.exp(-np.abs(z))  # (...)
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # (...)


def loss_and_grad(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[float, np.ndarray, float]:
    """The regularised mean log-loss of a logistic model, and its gradients.

        z      = X @ w + b                                         # (N,)
        loss   = mean_n[ -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) ] + l2 / 2 * ||w||^2
               = mean_n[ log(1 + exp(z)) - y z ] + l2 / 2 * ||w||^2
        grad_w = X^T (sigmoid(z) - y) / N + l2 * w                 # (D,)
        grad_b = mean_n(sigmoid(z) - y)

    Args:
        w: (D,) weights.
        b: the bias, a Python float.
        X: (N, D) features, N >= 1.
        y: (N,) labels in {0, 1} (float or integer dtype).
        l2: the L2 strength, >= 0. It penalises w only, never b.

    Returns:
        (loss, grad_w, grad_b): loss and grad_b as Python floats (np.float64, a float
        subclass, also does), grad_w a (D,) float64 array.

    Conventions and edge cases:
        Computed in float64. The loss and gradients must stay finite and exact, without a
        RuntimeWarning, for huge logits: a confident right answer (y = 1, z = 800) costs
        about 0 and a confident wrong one (y = 1, z = -800) costs 800. Writing
        log(sigmoid(z)) gives log(0) = -inf (or 0 * -inf = nan) there, and clipping the
        probability to [eps, 1 - eps] caps the cost at -log(eps); use
        log(1 + exp(z)) = logaddexp(0, z) instead.

    Do not use: torch (numpy only), sklearn, scipy.special.
    """
    X = np.asarray(X, dtype=np.float64)  # (N, D)
    y = np.asarray(y, dtype=np.float64)  # (N,)
    w = np.asarray(w, dtype=np.float64)  # (D,)
    z = X @ w + b  # (N,)
    # log(1 + exp(z)) - y z, with log(1 + exp(z)) = logaddexp(0, z): finite for any z
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w)
    residual = sigmoid(z) - y  # (N,) dloss/dz times N
    grad_w = X.T @ residual / len(y) + l2 * w  # (D,) the bias is not penalised
    grad_b = residual.mean()
    return float(loss), grad_w, float(grad_b)


class LogisticRegression:
    """A binary logistic-regression classifier fitted by full-batch gradient descent.

    Args:
        lr: the gradient-descent step size.
        n_iters: the number of gradient steps fit() takes (0 leaves the zeros).
        l2: the L2 strength of loss_and_grad, on the weights only.

    Fitted attributes (set by fit):
        w_: (D,) float64 weights.
        b_: the bias, a Python float.

    Do not use: torch (numpy only), sklearn, scipy.special.
    """

    def __init__(self, lr: float = 0.1, n_iters: int = 1000, l2: float = 0.0) -> None:
        self.lr = lr
        self.n_iters = n_iters
        self.l2 = l2

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticRegression:
        """Fit w_ and b_ by full-batch gradient descent on loss_and_grad's loss.

        Starts from w = zeros(D), b = 0.0, then takes exactly n_iters steps, each on the
        whole data set:
            w <- w - lr * grad_w,   b <- b - lr * grad_b
        with both gradients computed at the current (w, b) before either is updated.
        Deterministic: no random initialisation, no shuffling, no early stopping.

        Args:
            X: (N, D) features.
            y: (N,) labels in {0, 1} (float or integer dtype).

        Returns:
            self, so that LogisticRegression().fit(X, y).predict(X) works.
        """
        X = np.asarray(X, dtype=np.float64)  # (N, D)
        y = np.asarray(y, dtype=np.float64)  # (N,)
        self.w_ = np.zeros(X.shape[1])  # (D,)
        self.b_ = 0.0
        for _ in range(self.n_iters):
            _, grad_w, grad_b = loss_and_grad(self.w_, self.b_, X, y, self.l2)
            self.w_ = self.w_ - self.lr * grad_w
            self.b_ = self.b_ - self.lr * grad_b
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(y = 1 | x) = sigmoid(X @ w_ + b_), from the fitted (or assigned) w_ and b_.

        Args:
            X: (N, D) features.

        Returns:
            (N,) float64 probabilities in [0, 1]: exactly 0.0 and 1.0 for logits of
            -1000 and 1000, without a RuntimeWarning (use sigmoid).
        """
        X = np.asarray(X, dtype=np.float64)  # (N, D)
        return sigmoid(X @ self.w_ + self.b_)  # (N,)

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Hard labels: 1 where predict_proba(X) >= threshold, else 0.

        A probability exactly equal to the threshold gives 1 (so with w_ = 0, b_ = 0 every
        prediction is 1; threshold=0.0 predicts 1 everywhere).

        Args:
            X: (N, D) features.
            threshold: the probability at and above which the label is 1.

        Returns:
            (N,) array of 0s and 1s, an integer dtype.
        """
        return (self.predict_proba(X) >= threshold).astype(np.int64)  # (N,) ties give 1
