"""Adam and AdamW: bias-corrected running averages of the gradient and its square,
as torch.optim.Adam / AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019).

    d = g + weight_decay * p          (Adam: L2 in the gradient)
    p = p * (1 - lr * weight_decay)   (AdamW: decay decoupled from the gradient)
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d**2
    v_max = max(v_max, v)             (amsgrad; used instead of v below)
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

This step runs for every parameter on every training step, so it works on
preallocated arrays only: two scratch buffers, no temporaries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class Adam(Optimizer):
    """Adam (``betas``, ``eps``, ``weight_decay``, ``amsgrad``, ``maximize``,
    ``decoupled_weight_decay`` which turns it into AdamW)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")
        self._check_number(group, "eps")
        self._check_number(group, "weight_decay")
        self._check_betas(group)

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        amsgrad = group["amsgrad"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        s0, s1 = self._buffers(p, 2)
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                param *= 1.0 - lr * weight_decay
            d = self._direction(param, grad, 0.0, group["maximize"], s0)
        else:
            d = self._direction(param, grad, weight_decay, group["maximize"], s0)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        np.subtract(d, exp_avg, out=s1)          # m = lerp(m, d, 1 - beta1)
        s1 *= 1.0 - beta1
        exp_avg += s1
        exp_avg_sq *= beta2
        np.multiply(d, d, out=s1)
        s1 *= 1.0 - beta2
        exp_avg_sq += s1
        second = exp_avg_sq
        if amsgrad:
            max_sq = state.get("max_exp_avg_sq")
            if max_sq is None:
                max_sq = state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(max_sq, exp_avg_sq, out=max_sq)
            second = max_sq
        step_size = lr / (1.0 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
        # m / (sqrt(v) / bc2 + eps) == bc2 * m / (sqrt(v) + eps * bc2): one pass fewer
        np.sqrt(second, out=s1)
        s1 += float(group["eps"]) * bias_correction2_sqrt
        np.divide(exp_avg, s1, out=s1)
        s1 *= -step_size * bias_correction2_sqrt
        param += s1


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): ``p *= 1 - lr * weight_decay``
    before the Adam step, instead of adding ``weight_decay * p`` to the gradient."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True
