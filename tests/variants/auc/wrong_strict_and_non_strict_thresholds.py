"""Wrong: at each threshold t, counts true positives with score >= t but false positives
with score > t: the two rates describe different thresholds, and the curve is off wherever
a negative sits at the threshold."""

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
    pos, neg = np.sort(s[positive]), np.sort(s[~positive])
    thresholds = np.unique(s)[::-1]  # from the highest score down
    tp = len(pos) - np.searchsorted(pos, thresholds, side="left")  # positives >= t
    fp = len(neg) - np.searchsorted(neg, thresholds, side="right")  # negatives > t
    tpr = np.r_[0.0, tp / len(pos), 1.0]
    fpr = np.r_[0.0, fp / len(neg), 1.0]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
