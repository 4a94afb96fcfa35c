"""Adamax: Adam with the infinity norm in place of the squared average, as
torch.optim.Adamax (Kingma & Ba, 2015, section 7).

    d = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * d
    u = max(beta2 * u, |d| + eps)
    p = p - lr / (1 - beta1**t) * m / u
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class Adamax(Optimizer):
    """Adamax (``betas``, ``eps``, ``weight_decay``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")
        self._check_number(group, "eps")
        self._check_number(group, "weight_decay")
        self._check_betas(group)

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_inf"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = (float(b) for b in group["betas"])
        s0, s1 = self._buffers(p, 2)
        d = self._direction(param, grad, float(group["weight_decay"]), group["maximize"], s0)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        np.subtract(d, exp_avg, out=s1)
        s1 *= 1.0 - beta1
        exp_avg += s1
        exp_inf *= beta2
        np.abs(d, out=s1)
        s1 += float(group["eps"])
        np.maximum(exp_inf, s1, out=exp_inf)
        clr = float(group["lr"]) / (1.0 - beta1 ** state["step"])
        np.divide(exp_avg, exp_inf, out=s1)
        s1 *= -clr
        param += s1
