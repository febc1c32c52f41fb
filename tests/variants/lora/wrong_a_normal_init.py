"""Wrong: lora_A drawn from a standard normal (as some tutorials do) instead of Kaiming-uniform."""

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update of its weight (Hu et al., 2021).

        out = base(x) + (alpha / r) * x @ lora_A^T @ lora_B^T
            = x @ (W + (alpha / r) * lora_B @ lora_A)^T + b

    Args:
        base: the nn.Linear(in_features, out_features) to adapt, with or without a bias, of
            any floating dtype and device. It is kept as self.base, the same object, and
            frozen in place: base.weight (and base.bias, if any) get requires_grad False.
        r: the rank of the update, an int >= 1.
        alpha: the scaling numerator; the update is multiplied by alpha / r.

    Attributes (the tests read and overwrite them by these names):
        base: the frozen nn.Linear.
        lora_A: nn.Parameter (r, in_features), initialised as PEFT does, Kaiming-uniform with
            a = sqrt(5): uniform on [-1/sqrt(in_features), 1/sqrt(in_features)]
            (nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5))), drawn from torch's global
            generator.
        lora_B: nn.Parameter (out_features, r), initialised to zeros, so that the module
            starts out computing exactly base(x) while both factors still get gradients.
        Both have base.weight's dtype and device and require grad; they are the only
        trainable parameters. The state_dict holds exactly base.weight, base.bias (when
        base has a bias), lora_A and lora_B.

    forward(x):
        x: (..., in_features), any number of leading dims, with base's dtype and device.
        Returns (..., out_features) with x's dtype and device. The full update matrix
        B @ A need not be formed (x @ A^T is only r wide).

    merge() -> nn.Linear:
        A new nn.Linear(in_features, out_features) with base's dtype, device and bias-ness,
        whose weight is W + (alpha / r) * lora_B @ lora_A and whose bias equals base.bias, so
        that merged(x) == forward(x) (up to rounding), with no extra cost at inference. Its
        weight and bias are new tensors sharing no storage with base, lora_A or lora_B, and
        the LoRA module is left exactly as it was (base is not modified).

    Raises:
        ValueError: in __init__, if r < 1; the message names r.

    Do not use: peft (any of it).
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float) -> None:
        super().__init__()
        if r < 1:
            raise ValueError(f"LoRALinear: the rank r must be at least 1, got r={r}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)  # only the low-rank factors train
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=w.dtype, device=w.device))
        self.lora_B = nn.Parameter(
            torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device)
        )
        # A random, B zero: the update B @ A starts at 0, yet B's gradient (via x @ A^T) is not
        nn.init.normal_(self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x @ self.lora_A.T) @ self.lora_B.T  # (..., r) then (..., out): never (out, in)
        return self.base(x) + self.scaling * update

    def merge(self) -> nn.Linear:
        w = self.base.weight
        merged = nn.Linear(
            self.base.in_features,
            self.base.out_features,
            bias=self.base.bias is not None,
            dtype=w.dtype,
            device=w.device,
        )
        with torch.no_grad():
            # out of place: a new tensor, base.weight stays as it was
            merged.weight.copy_(w + self.scaling * (self.lora_B @ self.lora_A))  # (out, in)
            if self.base.bias is not None:
                merged.bias.copy_(self.base.bias)
        return merged
