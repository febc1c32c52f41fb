"""Top-p (nucleus) sampling: keep the fewest likely tokens that cover mass p, then draw."""

import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """The nucleus filter: keep the smallest set of most probable tokens whose probability
    sums to at least p, and set every other logit to -inf.

        probs = softmax(logits)                  # (..., V)
        rank each row's tokens by probability, most probable first; keep a token when the
        total probability of the tokens ranked before it is still below p
        out   = logits where kept, else -inf     # (..., V)

    Args:
        logits: (..., V) unnormalised log-probabilities, a floating dtype (float16,
            bfloat16, float32, float64); -inf entries (probability 0) are allowed.
            Every row has at least one finite entry.
        p: the nucleus mass, a Python float in [0, 1].

    Returns:
        (..., V) with logits' dtype and device: every kept logit unchanged (bit for bit),
        every other one -inf.

    Conventions and edge cases:
        The token whose probability carries the sum across p is kept: probabilities
        [0.5, 0.3, 0.2] with p = 0.79 keep the first two tokens, with p = 0.81 all three.
        At least one token, the most probable, is always kept: p = 0 or a tiny p keeps
        only the argmax. p = 1 keeps every token whose probability is not 0.
        A running sum exactly equal to p is unspecified (float rounding decides it), and so
        is which of several equally probable tokens straddling the boundary survive: the
        tests never ask. Each row has its own nucleus. The input is left unchanged.

    Raises:
        ValueError: if p < 0 or p > 1.

    Do not use: nothing is forbidden (torch.sort, torch.cumsum and torch.multinomial are
    fine).
    """
    raise NotImplementedError


def top_p_sample(
    logits: torch.Tensor,
    p: float,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row from the nucleus of softmax(logits / T):
    softmax(top_p_filter(logits / T, p)).

    Args:
        logits: (..., V) as for top_p_filter; the leading dims `...` may be absent, one or
            many (logits of shape (N, V) draw N tokens at once).
        p: the nucleus mass, a Python float in [0, 1].
        temperature: T >= 0, a Python float. It is applied BEFORE the nucleus is chosen:
            the nucleus is that of softmax(logits / T), so a high T widens it and a low T
            narrows it.
        generator: a torch.Generator on logits' device, the only source of randomness:
            the same seed gives the same draws. None means torch's global generator.

    Returns:
        tokens: (...) int64 on logits' device, logits.shape[:-1] (a 0-d tensor for logits
        of shape (V,)): vocabulary ids, each row's drawn with probability
        softmax(top_p_filter(logits / T, p)), independently of the other rows.

    Conventions and edge cases:
        A token outside the nucleus is never drawn. T = 0 returns each row's argmax (the
        lowest index among tied maxima) and draws nothing. Any correct sampling method is
        accepted (torch.multinomial, inverse CDF, Gumbel-max): the tests judge the
        distribution of the draws with a chi-square test, never the particular draws.
        The input is left unchanged.

    Raises:
        ValueError: if p < 0 or p > 1, or if temperature < 0.

    Do not use: nothing is forbidden (torch.sort, torch.cumsum and torch.multinomial are
    fine).
    """
    raise NotImplementedError
