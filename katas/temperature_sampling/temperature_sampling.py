"""Temperature sampling: reshape the next-token distribution, then draw from it."""

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The next-token distribution at a temperature: softmax(logits / T) over the last dim.

        probs = softmax(logits / T, dim=-1)          # (..., V)

    T < 1 sharpens the distribution, T > 1 flattens it, T = 1 is the plain softmax.

    Args:
        logits: (..., V) unnormalised log-probabilities, a floating dtype (float16,
            bfloat16, float32, float64); -inf marks a token that must get probability 0.
            Every row has at least one finite entry.
        temperature: T >= 0, a Python float.

    Returns:
        probs: (..., V), with logits' dtype and device: each row is >= 0 and sums to 1.

    Conventions and edge cases:
        T = 0 is greedy decoding: each row becomes the one-hot of its argmax (1.0 at the
        argmax, 0.0 elsewhere). Among tied maxima the lowest index wins, as torch.argmax
        picks it.
        Divide the logits, not the probabilities: at a large T a token whose probability
        at T = 1 underflows to 0 (float32 logits [0, -120]) must get its share back
        (softmax([0, -120] / 40) = [0.9526, 0.0474]).
        A very large T gives a nearly uniform row. The input is left unchanged.

    Raises:
        ValueError: if temperature < 0.

    Do not use: nothing is forbidden (torch.softmax is fine).
    """
    raise NotImplementedError


def sample_with_temperature(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw one token per row of logits from softmax(logits / T).

    Args:
        logits: (..., V) as for apply_temperature; the leading dims `...` may be absent,
            one or many (logits of shape (N, V) draw N tokens at once).
        temperature: T >= 0, a Python float.
        generator: a torch.Generator on logits' device, the only source of randomness:
            the same seed gives the same draws. None means torch's global generator.

    Returns:
        tokens: (...) int64 on logits' device, logits.shape[:-1] (a 0-d tensor for logits
        of shape (V,)): each row's token j is drawn with probability
        softmax(logits / T)[..., j], independently of the other rows.

    Conventions and edge cases:
        T = 0 returns each row's argmax (the lowest index among tied maxima) and draws
        nothing. A token whose logit is -inf is never drawn. Any correct sampling method
        is accepted (torch.multinomial, inverse CDF, Gumbel-max): the tests judge the
        distribution of the draws with a chi-square test, never the particular draws.
        The input is left unchanged.

    Raises:
        ValueError: if temperature < 0.

    Do not use: nothing is forbidden (torch.multinomial is fine).
    """
    raise NotImplementedError
