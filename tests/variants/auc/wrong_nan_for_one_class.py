"""Wrong: never checks that both classes are present, so one class only divides 0 by 0 and
returns nan (with a RuntimeWarning) instead of raising ValueError."""

import numpy as np


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    y, s = np.asarray(y_true), np.asarray(y_score)
    if y.shape != s.shape:
        raise ValueError("y_true and y_score differ in length")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    positive = y == 1
    negatives = np.sort(s[~positive])
    below = np.searchsorted(negatives, s[positive], side="left")
    at_or_below = np.searchsorted(negatives, s[positive], side="right")
    with np.errstate(invalid="ignore"):
        return float((below + at_or_below).sum() / (2 * positive.sum() * len(negatives)))
