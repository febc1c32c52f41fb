"""Right: input projections of all time steps in one matmul before the loop."""

import math

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
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            shapes = {
                "weight_ih": (4 * hidden_size, in_size),
                "weight_hh": (4 * hidden_size, hidden_size),
                "bias_ih": (4 * hidden_size,),
                "bias_hh": (4 * hidden_size,),
            }
            for name, shape in shapes.items():
                param = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                self.register_parameter(f"{name}_l{layer}", param)

    def forward(
        self,
        x: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """(B, T, I) and (h0, c0) or None -> (out (B, T, H), (h_n, c_n) each (layers, B, H))."""
        B, T, _ = x.shape
        H = self.hidden_size
        if state is None:
            zeros = x.new_zeros(self.num_layers, B, H)
            state = (zeros, zeros)
        h0, c0 = state
        layer_input = x  # (B, T, I), then (B, T, H) for the layers above
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")  # (4H, in)
            w_hh = getattr(self, f"weight_hh_l{layer}")  # (4H, H)
            b_ih = getattr(self, f"bias_ih_l{layer}")  # (4H,)
            b_hh = getattr(self, f"bias_hh_l{layer}")  # (4H,)
            h, c = h0[layer], c0[layer]  # (B, H) each
            projected = layer_input @ w_ih.T + (b_ih + b_hh)  # (B, T, 4H)
            outputs = []
            for t in range(T):
                z = projected[:, t] + h @ w_hh.T  # (B, 4H)
                i = torch.sigmoid(z[:, :H])  # input gate: how much of g to write
                f = torch.sigmoid(z[:, H : 2 * H])  # forget gate: how much of c to keep
                g = torch.tanh(z[:, 2 * H : 3 * H])  # candidate values, in (-1, 1)
                o = torch.sigmoid(z[:, 3 * H :])  # output gate: how much of c to show
                c = f * c + i * g  # (B, H): additive, so gradients survive long spans
                h = o * torch.tanh(c)  # (B, H)
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)  # (B, T, H): the next layer's input
            h_n.append(h)
            c_n.append(c)
        return layer_input, (torch.stack(h_n), torch.stack(c_n))
