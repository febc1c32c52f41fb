"""Right, another style: plain Python, O(n log n): sort (score, label) pairs once, walk the
groups of equal scores upwards keeping a count of the negatives seen below."""

from itertools import groupby

import numpy as np


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    labels = np.asarray(y_true).tolist()
    scores = np.asarray(y_score).tolist()
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    if any(label not in (0, 1) for label in labels):
        raise ValueError("labels must be 0 or 1")
    n_pos = sum(1 for label in labels if label == 1)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    twice_won = 0
    negatives_below = 0
    for _, group in groupby(sorted(zip(scores, labels, strict=True)), key=lambda pair: pair[0]):
        group_labels = [label for _, label in group]
        pos_here = sum(1 for label in group_labels if label == 1)
        neg_here = len(group_labels) - pos_here
        twice_won += pos_here * (2 * negatives_below + neg_here)
        negatives_below += neg_here
    return twice_won / (2 * n_pos * n_neg)
