"""Right, another style: move the axis to the end, normalise the last axis with explicit
[..., None] broadcasting, and move it back."""

import numpy as np


def _last_axis_log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1)[..., None]
    return shifted - np.log(np.exp(shifted).sum(axis=-1))[..., None]


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.moveaxis(x, axis, -1)
    return np.moveaxis(_last_axis_log_softmax(z), -1, axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.moveaxis(x, axis, -1)
    e = np.exp(z - z.max(axis=-1)[..., None])
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)
