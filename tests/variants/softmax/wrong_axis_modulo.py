"""Wrong: wraps an out-of-range axis with axis % x.ndim instead of raising, so a typo such
as axis=2 on a matrix silently normalises along another axis."""

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    axis = axis % x.ndim
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    axis = axis % x.ndim
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
