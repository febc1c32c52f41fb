"""Right: tensors. The live beams are rows of a LongTensor kept in lexicographic order, so
the flattened (beams x V) matrix of totals lists the candidates in lexicographic order, and
a stable descending sort of it breaks ties exactly as the contract asks."""

from collections.abc import Callable

import torch


def beam_search(
    step: Callable[[list[int]], torch.Tensor],
    prompt: list[int],
    beam_width: int,
    max_new_tokens: int,
    eos_id: int | None = None,
    length_penalty: float = 1.0,
) -> list[tuple[list[int], float]]:
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if max_new_tokens == 0:
        return [([], 0.0)]
    beams = torch.zeros(1, 0, dtype=torch.long)  # (B, t), rows in lexicographic order
    totals = torch.zeros(1, dtype=torch.float64)  # (B,)
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_new_tokens):
        logits = torch.stack([step(prompt + row).cpu() for row in beams.tolist()])  # (B, V)
        V = logits.shape[-1]
        cand = (totals[:, None] + torch.log_softmax(logits.double(), dim=-1)).flatten()  # (B*V,)
        order = torch.sort(cand, descending=True, stable=True).indices[:beam_width]
        order = order.sort().values  # back to lexicographic order
        parent, token = order // V, order % V
        beams = torch.cat([beams[parent], token[:, None]], dim=1)  # (k, t + 1)
        totals = cand[order]
        done = token == eos_id if eos_id is not None else torch.zeros_like(token, dtype=torch.bool)
        finished += list(zip(beams[done].tolist(), totals[done].tolist(), strict=True))
        beams, totals = beams[~done], totals[~done]
        if beams.shape[0] == 0:
            break
    finished += list(zip(beams.tolist(), totals.tolist(), strict=True))
    scored = [(tokens, total / len(tokens) ** length_penalty) for tokens, total in finished]
    scored.sort(key=lambda c: (-c[1], c[0]))
    return scored[:beam_width]
