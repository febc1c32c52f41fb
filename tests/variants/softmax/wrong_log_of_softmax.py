"""Wrong: log_softmax as log(softmax(x)): a probability that underflows to 0 (a logit 1e4
below the maximum) gives log(0) = -inf instead of about -1e4."""

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.log(softmax(x, axis=axis))
