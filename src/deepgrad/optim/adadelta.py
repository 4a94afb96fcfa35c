"""Adadelta: steps whose size is the ratio of two running RMS (updates over gradients),
as torch.optim.Adadelta (Zeiler, 2012).

    d = g + weight_decay * p
    v = rho * v + (1 - rho) * d**2
    delta = sqrt(u + eps) / sqrt(v + eps) * d
    u = rho * u + (1 - rho) * delta**2
    p = p - lr * delta
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta (``rho``, ``eps``, ``weight_decay``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")
        self._check_number(group, "rho", 0.0, 1.0)
        self._check_number(group, "eps")
        self._check_number(group, "weight_decay")

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        rho = float(group["rho"])
        eps = float(group["eps"])
        s0, s1, s2 = self._buffers(p, 3)
        d = self._direction(param, grad, float(group["weight_decay"]), group["maximize"], s0)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        np.multiply(d, d, out=s1)
        s1 *= 1.0 - rho
        square_avg += s1
        np.add(square_avg, eps, out=s1)
        np.sqrt(s1, out=s1)                      # std
        np.add(acc_delta, eps, out=s2)
        np.sqrt(s2, out=s2)
        s2 /= s1
        s2 *= d                                  # delta
        acc_delta *= rho
        np.multiply(s2, s2, out=s1)
        s1 *= 1.0 - rho
        acc_delta += s1
        s2 *= -float(group["lr"])
        param += s2
