"""Wrong: accepts any labels and treats every nonzero label (2, -1, 0.5) as positive
instead of raising ValueError for labels other than 0 and 1."""

import numpy as np


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    y, s = np.asarray(y_true), np.asarray(y_score)
    if y.shape != s.shape:
        raise ValueError("y_true and y_score differ in length")
    positive = y != 0
    if positive.all() or not positive.any():
        raise ValueError("AUC needs both classes")
    negatives = np.sort(s[~positive])
    below = np.searchsorted(negatives, s[positive], side="left")
    at_or_below = np.searchsorted(negatives, s[positive], side="right")
    return float((below + at_or_below).sum() / (2 * positive.sum() * len(negatives)))
