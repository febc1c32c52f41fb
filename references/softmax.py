"""Softmax and log-softmax along any axis of a numpy array, numerically stable."""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax of x along one axis: each slice along `axis` becomes a probability
    distribution.

        softmax(x)[..., i, ...] = exp(x_i) / sum_j exp(x_j)   (i, j index `axis`)

    Args:
        x: (...) a float64 or float32 array, any number of dimensions (at least one).
        axis: the axis to normalise along, negative or positive, as in numpy:
            -x.ndim <= axis < x.ndim. Every other axis is a batch axis.

    Returns:
        An array of x's shape and dtype (float64 for float64 input, float32 for float32
        input, computed in float32 as torch does); every slice along `axis` sums to 1.

    Conventions and edge cases:
        Stable for |x| up to 1e4 and beyond: the result is finite and exact where a naive
        exp(x) would overflow (inf / inf = nan) or underflow (0 / 0 = nan). Adding a
        constant to a slice along `axis` leaves its result unchanged. Each slice is
        handled on its own: slices far apart from each other (row 0 around 0, row 1
        around 1000) are each normalised exactly.
        An entry of -inf gets probability 0, provided its slice has a finite entry (a
        slice of -inf only is unspecified). Other dtypes (integers) are unspecified.
        x is never modified.

    Raises:
        numpy.exceptions.AxisError (a ValueError and an IndexError): for an axis outside
            [-x.ndim, x.ndim), as numpy's own reductions raise.

    Do not use: torch (numpy only), scipy.special (softmax, log_softmax, logsumexp).
    """
    # Subtract each slice's own maximum: every exponent is then <= 0, so exp cannot
    # overflow, and the maximum contributes exp(0) = 1, so the sum is >= 1 and never 0.
    # softmax is shift-invariant along the axis, so the answer is unchanged.
    shifted = x - np.max(x, axis=axis, keepdims=True)  # (...) keepdims: broadcasts back
    e = np.exp(shifted)  # (...) in (0, 1], x's dtype
    return e / np.sum(e, axis=axis, keepdims=True)  # (...)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log-softmax of x along one axis: the log-probabilities of softmax(x, axis).

        log_softmax(x)[..., i, ...] = x_i - log(sum_j exp(x_j))   (i, j index `axis`)

    Args:
        x: (...) a float64 or float32 array, any number of dimensions (at least one).
        axis: the axis to normalise along, negative or positive, as in numpy:
            -x.ndim <= axis < x.ndim.

    Returns:
        An array of x's shape and dtype (float64 for float64 input, float32 for float32
        input); every entry is <= 0 and exp of each slice along `axis` sums to 1.

    Conventions and edge cases:
        Stable and finite for |x| up to 1e4 and beyond: a logit 2e4 below its slice's
        maximum has log-probability about -2e4, not the -inf that log(softmax(x)) gives
        once the probability underflows to 0. Shift-invariant along `axis`, each slice
        on its own, as for softmax.
        An entry of -inf gets log-probability -inf, provided its slice has a finite entry.
        Other dtypes are unspecified. x is never modified.

    Raises:
        numpy.exceptions.AxisError (a ValueError and an IndexError): for an axis outside
            [-x.ndim, x.ndim).

    Do not use: torch (numpy only), scipy.special (softmax, log_softmax, logsumexp).
    """
    # x - logsumexp(x), with logsumexp(x) = m + log(sum(exp(x - m))) for m the slice's
    # maximum: the log sees a sum >= 1, so a tiny probability keeps its exact log instead
    # of underflowing to 0 and giving log(0) = -inf.
    shifted = x - np.max(x, axis=axis, keepdims=True)  # (...) every entry <= 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # (...)
