"""Beam search: keep the few most likely continuations alive, step after step."""

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
    """The beam_width best continuations of `prompt` that a beam of that width finds.

        logp(v | ids) = log_softmax(step(ids))[v]
        total(new)    = sum over t of logp(new[t] | prompt + new[:t])   # new tokens only
        score(new)    = total(new) / len(new) ** length_penalty

    The search, one step per new token (at most max_new_tokens steps), starting from one
    live beam, the empty continuation:
        1. every live beam `new` is extended by every token v: the candidates new + [v],
           with total(new + [v]) = total(new) + logp(v | prompt + new);
        2. the candidates are ranked by total (the summed log-probability, not the score),
           and the beam_width best are kept; every other candidate is dropped for good;
        3. a kept candidate that ends in eos_id is finished: it moves to the finished list
           and is never extended again. The others are the live beams of the next step.
           So a finished hypothesis takes one of the beam_width places only in the step
           that chose it: the next step again keeps beam_width candidates, all of them
           extensions of the live beams, so the beam refills.
        4. the search ends when max_new_tokens steps are done or no beam is live; the
           beams still live then are finished as they are.
    The result is the beam_width finished hypotheses of highest score, best first.

    Args:
        step: the model. step(ids) takes the whole sequence so far as a list of Python
            ints, the prompt followed by a beam's new tokens, and returns the logits of the
            next token: a tensor (V,) of any floating dtype, on any device.
        prompt: the tokens to continue, a list of Python ints in [0, V); may be empty.
        beam_width: the number of candidates kept at each step, an int >= 1.
        max_new_tokens: the most tokens a hypothesis may have, an int >= 0.
        eos_id: the end-of-sequence token, or None when there is none.
        length_penalty: the exponent of the length in the score: 0 ranks hypotheses by
            their summed log-probability, 1 (the default) by their mean log-probability
            per token; larger values favour longer hypotheses more.

    Returns:
        At most beam_width pairs (new, score), best score first: `new` a list of Python
        ints, the new tokens only (not the prompt), ending in eos_id when the hypothesis
        emitted it; `score` a Python float, score(new) above. Fewer than beam_width pairs
        only when the model allows fewer distinct continuations (e.g. V ** max_new_tokens
        < beam_width). The pairs are distinct continuations.

    Conventions and edge cases:
        Lengths: len(new) counts the eos token and never the prompt. Without eos every
            hypothesis has max_new_tokens tokens; with eos, any length from 1 up.
        Ties: candidates of exactly equal total, and finished hypotheses of exactly equal
            score, are ordered by their tokens as Python orders lists, the smaller first
            (on a model that gives every token the same logit, a beam keeps the
            lexicographically first continuations). So beam_width 1 is greedy search
            with ties to the lowest token id.
        Precision: scores must match a float64 recomputation to the precision of the
            logits' dtype; taking the log-softmax of the logits in float64 does this.
        step only ever sees prompt + the tokens of a live beam, as a list of Python ints:
            never a hypothesis that ended in eos_id. The prompt list is left unchanged.
        max_new_tokens == 0 returns [([], 0.0)]: the empty continuation, with score 0.0
            by convention (no division by a length of zero).

    Raises:
        ValueError: if beam_width < 1 or max_new_tokens < 0.

    Do not use: nothing is off limits (torch.log_softmax and torch.topk are fine).
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if max_new_tokens == 0:
        return [([], 0.0)]

    def best_first(pair: tuple[list[int], float]) -> tuple[float, list[int]]:
        tokens, value = pair
        return -value, tokens  # higher value first; equal values: smaller token list first

    live: list[tuple[list[int], float]] = [([], 0.0)]  # (new tokens, total log-prob)
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_new_tokens):
        candidates = []
        for tokens, total in live:
            # log_softmax subtracts the log-sum-exp: no exp overflows, no log(0) of a tiny
            # probability. In float64, so that sums over long sequences stay exact.
            logp = torch.log_softmax(step(prompt + tokens).double(), dim=-1)  # (V,)
            candidates += [([*tokens, v], total + lp) for v, lp in enumerate(logp.tolist())]
        candidates.sort(key=best_first)
        live = []
        for tokens, total in candidates[:beam_width]:  # the only places there are
            (finished if tokens[-1] == eos_id else live).append((tokens, total))
        if not live:
            break
    finished += live  # out of budget: the live beams finish as they are

    scored = [(tokens, total / len(tokens) ** length_penalty) for tokens, total in finished]
    scored.sort(key=best_first)
    return scored[:beam_width]
