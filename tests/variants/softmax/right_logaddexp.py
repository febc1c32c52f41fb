"""Right, another style: log-sum-exp with np.logaddexp.reduce (which never overflows), then
softmax = exp(log_softmax)."""

import numpy as np


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x - np.logaddexp.reduce(x, axis=axis, keepdims=True)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.exp(log_softmax(x, axis=axis))
