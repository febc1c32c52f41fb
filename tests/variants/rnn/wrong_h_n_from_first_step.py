"""Wrong: h_n holds each layer's hidden state after the first time step, not the last."""

import math

import torch
from torch import nn


class RNN(nn.Module):
    """A multi-layer Elman RNN over batch-first sequences, a drop-in for
    nn.RNN(input_size, hidden_size, num_layers, nonlinearity=..., batch_first=True).

    For layer l and time step t (x_t is the input for layer 0, and the output h_t of
    layer l - 1 for every later layer):

        h_t = act(x_t @ weight_ih_l{l}^T + bias_ih_l{l} + h_{t-1} @ weight_hh_l{l}^T + bias_hh_l{l})

    with act = tanh or relu, and h_{-1} = that layer's slice of h0 (zeros when h0 is None).

    Args:
        input_size: I, the size of the last dim of x.
        hidden_size: H, the size of every hidden state.
        num_layers: how many RNN layers are stacked, at least 1.
        nonlinearity: "tanh" or "relu" (exactly these lower-case strings).

    Parameters (registered directly on the module under nn.RNN's names, so that
    state_dicts load both ways between this module and nn.RNN; for each layer l):
        weight_ih_l{l}: (H, I) for l = 0, (H, H) for l >= 1.
        weight_hh_l{l}: (H, H).
        bias_ih_l{l}: (H,).
        bias_hh_l{l}: (H,).
        Nothing else: named_parameters() lists exactly these 4 * num_layers (in any order).
        Initialisation as nn.RNN's: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)].

    forward(x, h0=None):
        x: (B, T, I), batch first, T >= 1, with the module's dtype and device (float16,
            bfloat16, float32, float64). Only batched 3-D input is asked for.
        h0: None (zeros), or (num_layers, B, H) with x's dtype and device: h0[l] is the
            hidden state layer l starts from.
        Returns (out, h_n):
            out: (B, T, H), the last layer's hidden state at every time step.
            h_n: (num_layers, B, H), every layer's hidden state after the last time step
                (so h_n[-1] equals out[:, -1]).
        Both with x's dtype and device. Gradients flow to x, h0 and every parameter.
        The inputs are left unchanged. No dropout, no bidirectional mode.

    Raises:
        ValueError: from the constructor, if nonlinearity is neither "tanh" nor "relu";
            the message names the value given.

    Do not use: torch.nn.RNN, torch.nn.RNNCell, torch.rnn_tanh, torch.rnn_relu,
    torch.rnn_tanh_cell, torch.rnn_relu_cell (nor their torch._C / torch.ops.aten forms).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
    ) -> None:
        """Register the 4 * num_layers parameters under nn.RNN's names."""
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = nonlinearity
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            shapes = {
                "weight_ih": (hidden_size, in_size),
                "weight_hh": (hidden_size, hidden_size),
                "bias_ih": (hidden_size,),
                "bias_hh": (hidden_size,),
            }
            for name, shape in shapes.items():
                param = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                self.register_parameter(f"{name}_l{layer}", param)

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, I) and (num_layers, B, H) or None -> (out (B, T, H), h_n (num_layers, B, H))."""
        B, T, _ = x.shape
        act = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, B, self.hidden_size)
        layer_input = x  # (B, T, I), then (B, T, H) for the layers above
        h_n = []
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")  # (H, in)
            w_hh = getattr(self, f"weight_hh_l{layer}")  # (H, H)
            b_ih = getattr(self, f"bias_ih_l{layer}")  # (H,)
            b_hh = getattr(self, f"bias_hh_l{layer}")  # (H,)
            h = h0[layer]  # (B, H)
            outputs = []
            for t in range(T):
                h = act(layer_input[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # (B, H)
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)  # (B, T, H): the next layer's input
            h_n.append(outputs[0])
        return layer_input, torch.stack(h_n)  # (B, T, H), (num_layers, B, H)
