"""ROC AUC of binary labels and real-valued scores, ties counted as one half."""

from __future__ import annotations

import numpy as np


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative, a tie counting one half.

        AUC = (#{(i, j): s_i > s_j} + 1/2 #{(i, j): s_i = s_j}) / (P * N)
        over every positive i (y_true[i] == 1) and every negative j (y_true[j] == 0),
        where P and N are the numbers of positives and negatives.

    Args:
        y_true: (n,) binary labels: integers or floats equal to 0 or 1, or booleans
            (True is positive).
        y_score: (n,) real scores of any numeric dtype, higher meaning "more likely
            positive"; they need not be probabilities, and may repeat (ties).

    Returns:
        The AUC in [0, 1] as a Python float (an np.float64, a float subclass, also does):
        1.0 when every positive outscores every negative, 0.0 for the reverse order, 0.5
        when every score is the same. It depends only on the order of the scores, so any
        strictly increasing transform of y_score leaves it unchanged.

    Conventions and edge cases:
        Ties are exact: equal scores compare equal, each positive/negative tie adds 1/2,
        whatever the order of the samples. The inputs are never modified. NaN scores are
        unspecified. Expect n in the hundreds of thousands: O(n log n) time (sort once),
        not O(P * N) pairs.

    Raises:
        ValueError: if y_true and y_score have different lengths; if a label is neither
            0 nor 1; if only one class is present (no positive or no negative, which
            includes an empty input): the AUC is then undefined.

    Do not use: torch (numpy only), sklearn (roc_auc_score, roc_curve, auc).
    """
    raise NotImplementedError
