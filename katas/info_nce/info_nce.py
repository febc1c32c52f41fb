"""The symmetric InfoNCE loss of CLIP-style contrastive learning."""

import torch


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """Contrastive loss over a batch of N pairs: row i of z1 should match row i of z2 and
    no other row.

        u      = z1 / ||z1||,  v = z2 / ||z2||       each row L2-normalised over D
        logits = u @ v^T / temperature               # (N, N), the positives on the diagonal
        loss   = (CE(logits, [0..N-1]) + CE(logits^T, [0..N-1])) / 2

    where CE(x, labels) is the cross-entropy of the softmax of each row of x against its
    label, averaged over the N rows: the first term classifies each z1 among the z2s, the
    second each z2 among the z1s.

    Args:
        z1: (N, D) embeddings of the first view, a floating dtype, N >= 1.
        z2: (N, D) embeddings of the second view, with z1's dtype and device.
        temperature: > 0; divides the cosine similarities (lower = sharper).

    Returns:
        A 0-dim tensor with z1's dtype and device.

    Conventions and edge cases:
        The loss depends only on the directions of the rows, not on their lengths. N = 1
        gives 0 (the only candidate is the right one). It must stay finite and accurate for
        temperatures as small as 0.005 (logits up to 200). Rows of zeros have no direction
        and are not asked for. The inputs are left unchanged.

    Do not use: nothing is forbidden; F.cross_entropy and F.normalize are fine.
    """
    raise NotImplementedError
