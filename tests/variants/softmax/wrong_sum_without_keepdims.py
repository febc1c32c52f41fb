"""Wrong: the sum drops the reduced axis (no keepdims), so e / s broadcasts s along the last
axis: on a square input along axis -1 entry [i, j] is divided by the sum of row j, and on a
non-square one the shapes do not even broadcast."""

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis))
