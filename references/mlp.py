"""The two feed-forward blocks of a transformer layer: ViT's GELU Mlp and Llama's SwiGLU."""

import torch
from torch import nn


class Mlp(nn.Module):
    """ViT's feed-forward block (timm's Mlp): two linear layers with an exact GELU between.

        out = drop(fc2(drop(gelu(fc1(x)))))
        gelu(h) = h * Phi(h) = 0.5 * h * (1 + erf(h / sqrt(2)))      (exact, not tanh)

    Args:
        in_features: the size of the last dim of x.
        hidden_features: the width of the hidden layer; None means in_features.
        out_features: the size of the last dim of the output; None means in_features.
        drop: the dropout probability p, 0 <= p < 1 (0.0: no dropout at all).

    Attributes (the tests read and overwrite them by these names):
        fc1: nn.Linear(in_features, hidden_features) with a bias:
            weight (hidden_features, in_features), bias (hidden_features,).
        act: the exact GELU as a module, nn.GELU() (nn.GELU(approximate="tanh") differs
            by up to 5e-4 and is wrong here).
        drop: nn.Dropout(drop), one module applied at two places in forward.
        fc2: nn.Linear(hidden_features, out_features) with a bias:
            weight (out_features, hidden_features), bias (out_features,).
        The state_dict holds exactly fc1.weight, fc1.bias, fc2.weight, fc2.bias.

    forward(x):
        x: (..., in_features), any number of leading dims (none included), with the
            module's dtype and device (float16, bfloat16, float32, float64).
        Returns (..., out_features), with x's dtype and device.

    Dropout, exactly where timm puts it:
        drop is applied twice per call, each time with a fresh mask: to the hidden
        activations (after act, before fc2) and to the output (after fc2). In training
        mode (module.train(), the default) each dropout zeroes every element independently
        with probability p and multiplies the survivors by 1 / (1 - p). In eval mode
        (module.eval()) both are the identity, so forward is deterministic and equals
        fc2(gelu(fc1(x))). With p = 0.0 training and eval give the same result.

    Initialisation is nn.Linear's default (the tests load their own weights). The input
    is left unchanged. No errors of its own: nn.Linear and nn.Dropout raise theirs.

    Do not use: nothing is forbidden, but act must be the exact (erf) GELU.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        drop: float = 0.0,
    ) -> None:
        """Build fc1, act, drop and fc2 for the given sizes."""
        super().__init__()
        # `is None`, not `or`: the defaults apply only when a size is not given
        hidden_features = in_features if hidden_features is None else hidden_features
        out_features = in_features if out_features is None else out_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()  # approximate="none": 0.5 h (1 + erf(h / sqrt 2))
        self.drop = nn.Dropout(drop)  # identity in eval mode
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in_features) -> (..., out_features)."""
        h = self.drop(self.act(self.fc1(x)))  # (..., hidden_features)
        return self.drop(self.fc2(h))  # (..., out_features), a fresh mask


class SwiGLU(nn.Module):
    """Llama's feed-forward block: a SiLU-gated linear unit, every linear without a bias.

        out = w2(silu(w1(x)) * w3(x))
        silu(a) = a * sigmoid(a)

    The gate silu(w1 x) multiplies the value w3 x element by element; silu applies to
    w1's output only, never to w3's or to the product.

    Args:
        dim: the size of the last dim of x and of the output.
        hidden_dim: the width of the hidden layer, used exactly as given (no rescaling by
            2/3 and no rounding up to a multiple, as Llama's constructor does before this).

    Attributes (the tests read and overwrite them by these names):
        w1: nn.Linear(dim, hidden_dim, bias=False), weight (hidden_dim, dim): the gate.
        w2: nn.Linear(hidden_dim, dim, bias=False), weight (dim, hidden_dim): the output.
        w3: nn.Linear(dim, hidden_dim, bias=False), weight (hidden_dim, dim): the value.
        The state_dict holds exactly w1.weight, w2.weight, w3.weight: no biases.

    forward(x):
        x: (..., dim), any number of leading dims (none included), with the module's dtype
            and device (float16, bfloat16, float32, float64).
        Returns (..., dim), with x's dtype and device.

    No dropout, so training and eval mode give the same result. Initialisation is
    nn.Linear's default (the tests load their own weights). The input is left unchanged.

    Do not use: nothing is forbidden.
    """

    def __init__(self, dim: int, hidden_dim: int) -> None:
        """Build the bias-free w1, w2 and w3."""
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., dim) -> (..., dim)."""
        gate = nn.functional.silu(self.w1(x))  # (..., hidden_dim)
        value = self.w3(x)  # (..., hidden_dim), no activation
        return self.w2(gate * value)  # (..., dim)
