"""Wrong: never compares the lengths of y_true and y_score, so fewer scores than labels are
silently paired with the first labels (zip stops at the shorter) instead of raising."""

import numpy as np


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    pairs = list(zip(np.asarray(y_true).tolist(), np.asarray(y_score).tolist(), strict=False))
    if any(label not in (0, 1) for label, _ in pairs):
        raise ValueError("labels must be 0 or 1")
    y = np.array([label for label, _ in pairs])
    s = np.array([score for _, score in pairs])
    positive = y == 1
    if positive.all() or not positive.any():
        raise ValueError("AUC needs both classes")
    negatives = np.sort(s[~positive])
    below = np.searchsorted(negatives, s[positive], side="left")
    at_or_below = np.searchsorted(negatives, s[positive], side="right")
    return float((below + at_or_below).sum() / (2 * positive.sum() * len(negatives)))
