"""Wrong: beta1 and beta2 swapped: m decays with beta2 and v with beta1."""

from collections.abc import Callable, Iterable
from typing import Any

import torch


class Adam(torch.optim.Optimizer):
    """Adam with bias correction; weight decay either as L2 (Adam) or decoupled (AdamW).

    For every parameter p with a gradient g, one call of step() does, with t the number of
    steps this parameter has taken, this one included (t = 1 on its first step):

        g = g + weight_decay * p                 # L2: only if decoupled_weight_decay is False
        p = p * (1 - lr * weight_decay)          # decoupled: only if it is True, before the update
        m = beta1 * m + (1 - beta1) * g          # exp_avg, starts at zeros
        v = beta2 * v + (1 - beta2) * g * g      # exp_avg_sq, starts at zeros
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    decoupled_weight_decay=False is torch.optim.Adam; decoupled_weight_decay=True is
    torch.optim.AdamW (the same updates, to float rounding).

    Args:
        params: an iterable of tensors (leaf tensors that require grad), or of dicts
            (param groups) each with a "params" list and any of the hyperparameters below
            to override the defaults for that group, as every torch optimizer accepts.
        lr: the learning rate, >= 0.
        betas: (beta1, beta2), the decay rates of m and v, each in [0, 1).
        eps: added to sqrt(v_hat), outside the square root, >= 0.
        weight_decay: >= 0; 0.0 means no decay.
        decoupled_weight_decay: False: L2, weight_decay * p added to the gradient before
            m and v see it. True: p scaled by (1 - lr * weight_decay) before the update.

    Param groups (self.param_groups, built by torch.optim.Optimizer.__init__ from `defaults`)
    carry the keys "params", "lr", "betas", "eps", "weight_decay", "decoupled_weight_decay";
    step() reads every hyperparameter from the parameter's own group, so that a group may
    override any of them and a caller may change group["lr"] between steps (a scheduler).

    State: everything step() remembers lives in self.state[p], a dict per parameter, so that
    the inherited state_dict() and load_state_dict() save and restore it (a checkpoint loaded
    into a fresh Adam continues exactly as if training had never stopped). Its keys are
    torch's:
        "step": t, the number of steps this parameter has taken (a number or a 0-dim tensor);
        "exp_avg": m, with p's shape, dtype and device;
        "exp_avg_sq": v, with p's shape, dtype and device.
    The state is created on a parameter's first step that has a gradient; nothing is kept on
    the optimizer itself.

    step(closure=None):
        closure: None, or a callable that clears the gradients, recomputes the loss, calls
            backward() and returns the loss. When given, it is called once, with gradients
            enabled (torch.enable_grad()), before any parameter is updated.
        Returns the closure's return value itself (the same object), or None without one.
        Parameters whose .grad is None are skipped: neither they nor their state change
        (their step count does not advance). The update itself is not recorded by autograd.
        zero_grad() is torch.optim.Optimizer's own.

    Conventions and edge cases:
        Works for parameters of any floating dtype and device; m and v keep p's dtype and
        device. beta1 = 0 is allowed (no momentum). lr and the betas are plain floats.

    Raises:
        ValueError: in __init__, if lr < 0, eps < 0, weight_decay < 0, or either beta is
            outside [0, 1); the message names the hyperparameter and its value.

    Do not use: torch.optim.Adam, torch.optim.AdamW, their functional forms
    (torch.optim.adam.adam, torch.optim.adam._*_adam, torch.optim.adamw.adamw,
    torch.optim._functional.adam, torch.optim._functional.adamw), torch._foreach_* (any of
    them), torch._fused_adam_, torch._fused_adamw_.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            if value < 0:
                raise ValueError(f"Adam: {name} must be >= 0, got {name}={value}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: betas[{i}] must be in [0, 1), got betas={betas}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():  # step may run under no_grad; the closure needs autograd
                loss = closure()
        with torch.no_grad():  # the update is not part of any graph
            for group in self.param_groups:
                lr, (beta1, beta2) = group["lr"], group["betas"]
                eps, wd = group["eps"], group["weight_decay"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:  # first step of this parameter
                        state["step"] = 0
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    state["step"] += 1
                    t = float(state["step"])  # torch checkpoints hold a 0-dim tensor here

                    grad = p.grad
                    if wd != 0 and group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)  # AdamW: shrink the weights, outside the moments
                    elif wd != 0:
                        grad = grad + wd * p  # Adam's L2: the decay goes through m and v

                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(beta2).add_(grad, alpha=1 - beta2)
                    v.mul_(beta1).addcmul_(grad, grad, value=1 - beta1)
                    m_hat = m / (1 - beta2**t)
                    v_hat = v / (1 - beta1**t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss
