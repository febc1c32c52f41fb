"""Wrong: Mann-Whitney U with ordinal ranks (argsort of argsort) instead of average ranks, so
tied scores get distinct ranks in sample order and a tie counts 0 or 1, not 1/2."""

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
    ranks = np.empty(len(s))
    ranks[np.argsort(s, kind="stable")] = np.arange(1, len(s) + 1)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))
