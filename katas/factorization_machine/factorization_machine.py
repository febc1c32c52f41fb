"""A factorization machine: a linear model plus every pairwise feature interaction, each
weighted by a dot product of learned factor vectors, computed in O(k n)."""

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    """Rendle's second-order factorization machine (2010), for regression or as logits.

        y(x) = w0 + sum_i w_i x_i + sum_{i<j} <V_i, V_j> x_i x_j

    where V_i = V[i] is the k-dimensional factor vector of feature i. The pairwise sum has
    n (n - 1) / 2 terms, but it equals

        sum_{i<j} <V_i, V_j> x_i x_j = 1/2 sum_f [ (sum_i V_if x_i)^2 - sum_i V_if^2 x_i^2 ]

    (the square of a sum holds every pair twice plus the squares i = j, which the second
    term removes), and that costs O(k n) per row. Compute it that way.

    Args:
        n_features: n, the number of input features (positive).
        k: the size of each factor vector (positive).

    Parameters (named exactly so; the state_dict holds exactly w0, w and V):
        w0: the global bias, a 0-dim tensor (shape (), not (1,)).
        w: (n_features,) the linear weights.
        V: (n_features, k) the factor vectors, one row per feature.
        Initialisation: w0 = 0, w = 0 and V ~ N(0, 0.01^2) drawn with torch's default
        generator (so torch.manual_seed makes it reproducible): small random factors
        break the symmetry (with V = 0 every gradient of V is 0), zeros elsewhere. All
        are float32 until the module is moved with .to(...). The tests load their own
        weights, so they only check shapes, names and that the values are finite.

    forward(x):
        x: (B, n_features), with the module's dtype and device (float16, bfloat16,
            float32, float64). Dense, but may be mostly zeros (one-hot encoded fields).
        Returns (B,): one prediction per row, with x's dtype and device (not (B, 1)).

    Conventions and edge cases:
        Memory: no tensor of B * n * n (or n * n) elements: never build the matrix of
        pairs x x^T nor V V^T. Tensors of B * n * k elements (x times V, broadcast) are
        fine. n_features = 1 has no pairs: y = w0 + w_0 x_0. The input is left unchanged.
        Gradients flow to w0, w, V (and x) through ordinary autograd.

    Do not use: nothing is forbidden, but the pairwise term must use the O(k n) identity.
    """

    def __init__(self, n_features: int, k: int) -> None:
        """Create w0, w and V as nn.Parameters, initialised as the class docstring says
        (call super().__init__() first)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_features) -> (B,)."""
        raise NotImplementedError
