"""Wrong: sorts the caller's arrays in place (y_score[...] = y_score[order]) to save a copy,
so the caller's labels and scores come back reordered."""

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
    y, s, positive = _check(y_true, y_score)
    order = np.argsort(s, kind="stable")
    s[...] = s[order]
    y[...] = y[order]
    positive = y == 1
    negatives = s[~positive]  # already sorted
    below = np.searchsorted(negatives, s[positive], side="left")
    at_or_below = np.searchsorted(negatives, s[positive], side="right")
    return float((below + at_or_below).sum() / (2 * positive.sum() * len(negatives)))
