"""Adagrad: per-coordinate steps shrunk by the root of the summed squared gradients,
as torch.optim.Adagrad (Duchi et al., 2011).

    d = g + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)
    sum = sum + d**2
    p = p - clr * d / (sqrt(sum) + eps)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad (``lr_decay``, ``weight_decay``, ``initial_accumulator_value``, ``eps``,
    ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check_number(group, key)

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, float(group["initial_accumulator_value"]))
        state["step"] += 1
        step = state["step"]
        s0, s1 = self._buffers(p, 2)
        d = self._direction(param, grad, float(group["weight_decay"]), group["maximize"], s0)
        clr = float(group["lr"]) / (1.0 + (step - 1) * float(group["lr_decay"]))
        total = state["sum"]
        np.multiply(d, d, out=s1)
        total += s1
        np.sqrt(total, out=s1)
        s1 += float(group["eps"])
        np.divide(d, s1, out=s1)
        s1 *= -clr
        param += s1
