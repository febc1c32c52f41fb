"""Wrong: softmax is stable, but log_softmax takes log(sum(exp(x))) without the max shift,
so a logit of 1e4 gives log(inf) = inf and log-probabilities of -inf."""

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
