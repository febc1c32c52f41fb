"""A stacked LSTM, written out by hand with nn.LSTM's parameters and gate order."""

import torch
from torch import nn


class LSTM(nn.Module):
    """A multi-layer LSTM over batch-first sequences, a drop-in for
    nn.LSTM(input_size, hidden_size, num_layers, batch_first=True).

    For layer l and time step t (x_t is the input for layer 0, and the output h_t of
    layer l - 1 for every later layer), with W_ih = weight_ih_l{l}, W_hh = weight_hh_l{l}:

        z = x_t @ W_ih^T + bias_ih_l{l} + h_{t-1} @ W_hh^T + bias_hh_l{l}     # (B, 4H)
        i, f, g, o = the four consecutive H-wide chunks of z, in this order
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);  g = tanh(g)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    with (h_{-1}, c_{-1}) = that layer's slices of the initial state (zeros when None).

    Args:
        input_size: I, the size of the last dim of x.
        hidden_size: H, the size of every hidden and cell state.
        num_layers: how many LSTM layers are stacked, at least 1.

    Parameters (registered directly on the module under nn.LSTM's names, so that
    state_dicts load both ways between this module and nn.LSTM; for each layer l):
        weight_ih_l{l}: (4H, I) for l = 0, (4H, H) for l >= 1.
        weight_hh_l{l}: (4H, H).
        bias_ih_l{l}: (4H,).
        bias_hh_l{l}: (4H,).
        Rows 0:H belong to the input gate i, H:2H to the forget gate f, 2H:3H to the
        candidate g, 3H:4H to the output gate o (nn.LSTM's order, i, f, g, o).
        Nothing else: named_parameters() lists exactly these 4 * num_layers (in any order).
        Initialisation as nn.LSTM's: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)].

    forward(x, state=None):
        x: (B, T, I), batch first, T >= 1, with the module's dtype and device (float16,
            bfloat16, float32, float64). Only batched 3-D input is asked for.
        state: None (zeros for both), or a pair (h0, c0), each (num_layers, B, H) with x's
            dtype and device: layer l starts from h0[l] and c0[l].
        Returns (out, (h_n, c_n)):
            out: (B, T, H), the last layer's hidden state h at every time step.
            h_n: (num_layers, B, H), every layer's hidden state after the last time step
                (so h_n[-1] equals out[:, -1]).
            c_n: (num_layers, B, H), every layer's cell state after the last time step.
        All with x's dtype and device. Gradients flow to x, h0, c0 and every parameter.
        The inputs are left unchanged. No dropout, no projections, no bidirectional mode.

    No errors of its own are asked for.

    Do not use: torch.nn.LSTM, torch.nn.LSTMCell, torch.lstm, torch.lstm_cell (nor any
    torch._C / torch.ops.aten op whose name contains "lstm").
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        """Register the 4 * num_layers parameters under nn.LSTM's names."""
        raise NotImplementedError

    def forward(
        self,
        x: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """(B, T, I) and (h0, c0) or None -> (out (B, T, H), (h_n, c_n) each (layers, B, H))."""
        raise NotImplementedError
