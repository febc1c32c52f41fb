"""Wrong: multiplies the similarities by the temperature instead of dividing."""

import torch
import torch.nn.functional as F


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    u = F.normalize(z1, dim=1)  # (N, D), unit rows: the loss sees directions only
    v = F.normalize(z2, dim=1)  # (N, D)
    logits = u @ v.T * temperature  # (N, N), logits[i, j] = cos(z1_i, z2_j) / T
    labels = torch.arange(len(z1), device=z1.device)  # (N,), the positive of row i is i
    # cross_entropy subtracts each row's max inside its log-softmax, so tiny temperatures
    # (large logits) stay finite
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
