"""Wrong: sorts the samples by y_true instead of y_score before the sweep, so the positives
always come first and the "ranking" is always perfect."""

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
    y, _, positive = _check(y_true, y_score)
    order = np.argsort(-y.astype(np.float64), kind="stable")
    tpr = np.concatenate([[0.0], np.cumsum(positive[order]) / positive.sum()])
    fpr = np.concatenate([[0.0], np.cumsum(~positive[order]) / (~positive).sum()])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
