"""Right: the two cross-entropies written by hand as log-sum-exp minus the positive logit,
with the rows normalised by rsqrt of the sum of squares."""

import torch


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    u = z1 * z1.pow(2).sum(dim=1, keepdim=True).rsqrt()
    v = z2 * z2.pow(2).sum(dim=1, keepdim=True).rsqrt()
    logits = torch.einsum("id,jd->ij", u, v) / temperature
    positives = logits.diagonal()
    z1_to_z2 = torch.logsumexp(logits, dim=1) - positives
    z2_to_z1 = torch.logsumexp(logits, dim=0) - positives
    return 0.5 * (z1_to_z2.mean() + z2_to_z1.mean())
