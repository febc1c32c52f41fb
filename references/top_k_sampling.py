"""Top-k sampling: keep the k most likely tokens, then draw among them."""

import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each row and set every other logit to -inf.

        kth = the k-th largest value of the row, counting repeats   # (..., 1)
        out = logits where logits >= kth, else -inf                  # (..., V)

    Args:
        logits: (..., V) unnormalised log-probabilities, a floating dtype (float16,
            bfloat16, float32, float64); -inf entries (tokens already masked) are allowed.
        k: how many tokens to keep, an int >= 1.

    Returns:
        (..., V) with logits' dtype and device: every kept logit unchanged (bit for bit),
        every other one -inf.

    Conventions and edge cases:
        Each row has its own k-th value. Ties at the k-th value are all kept, so more than
        k tokens may survive: [1, 3, 2, 2, 0.5] with k = 2 keeps [-inf, 3, 2, 2, -inf].
        k >= V keeps every token (the output equals the input). A logit already -inf stays
        -inf. The input is left unchanged.

    Raises:
        ValueError: if k < 1.

    Do not use: nothing is forbidden (torch.topk, torch.sort and torch.multinomial are fine).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    k = min(k, logits.shape[-1])  # k >= V keeps everything; topk refuses k > V
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1), each row's k-th value
    # compare with the k-th value rather than scattering topk's indices: every logit tied
    # with the k-th one survives, as the contract asks
    return logits.masked_fill(logits < kth, float("-inf"))  # (..., V), a new tensor


def top_k_sample(
    logits: torch.Tensor,
    k: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row from the top k tokens: softmax(top_k_filter(logits, k) / T).

    Args:
        logits: (..., V) as for top_k_filter; the leading dims `...` may be absent, one or
            many (logits of shape (N, V) draw N tokens at once).
        k: an int >= 1, as for top_k_filter.
        temperature: T >= 0, a Python float; it divides the logits (the top k set does not
            depend on a positive T).
        generator: a torch.Generator on logits' device, the only source of randomness:
            the same seed gives the same draws. None means torch's global generator.

    Returns:
        tokens: (...) int64 on logits' device, logits.shape[:-1] (a 0-d tensor for logits
        of shape (V,)): vocabulary ids (positions along the last dim of logits), each row's
        drawn with probability softmax(top_k_filter(logits, k) / T), independently of the
        other rows.

    Conventions and edge cases:
        Every token tied at the k-th value can be drawn. A token outside the top k is never
        drawn. T = 0 returns each row's argmax (the lowest index among tied maxima) and
        draws nothing. Any correct sampling method is accepted (torch.multinomial, inverse
        CDF, Gumbel-max): the tests judge the distribution of the draws with a chi-square
        test, never the particular draws. The input is left unchanged.

    Raises:
        ValueError: if k < 1 or temperature < 0.

    Do not use: nothing is forbidden (torch.topk, torch.sort and torch.multinomial are fine).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)  # (...) greedy: the argmax is always in the top k
    filtered = top_k_filter(logits, k)  # (..., V)
    probs = torch.softmax(filtered / temperature, dim=-1)  # (..., V), 0 outside the top k
    flat = probs.reshape(-1, probs.shape[-1])  # (N, V): multinomial takes 1-D or 2-D only
    tokens = torch.multinomial(flat, 1, generator=generator)  # (N, 1)
    return tokens.reshape(probs.shape[:-1])  # (...)
