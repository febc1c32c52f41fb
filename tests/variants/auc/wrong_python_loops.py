"""Wrong (too slow): the definition as a double Python loop over every positive/negative
pair: right, but O(P * N), hopeless for 200,000 samples."""

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
    pos = s[positive].tolist()
    neg = s[~positive].tolist()
    won = 0.0
    for p in pos:
        for n in neg:
            if p > n:
                won += 1.0
            elif p == n:
                won += 0.5
    return won / (len(pos) * len(neg))
