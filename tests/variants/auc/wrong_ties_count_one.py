"""Wrong: counts the negatives at or below each positive, so a tie counts 1 instead of 1/2
(searchsorted with side="right" alone)."""

import numpy as np


def _check(y_true, y_score):
    y, s = np.asarray(y_true), np.asarray(y_score)
    if y.shape != s.shape:
        raise ValueError("y_true and y_score differ in length")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    positive = y == 1
    if positive.all() or not positive.any():
        raise ValueError("AUC needs both classes")
    return y, s, positive


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    _, s, positive = _check(y_true, y_score)
    negatives = np.sort(s[~positive])
    at_or_below = np.searchsorted(negatives, s[positive], side="right")
    return float(at_or_below.sum() / (positive.sum() * len(negatives)))
