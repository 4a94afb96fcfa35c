"""RMSprop: gradients divided by a running RMS of themselves, as torch.optim.RMSprop
(Hinton's lecture 6e; ``centered`` as Graves, 2013).

    d = g + weight_decay * p
    v = alpha * v + (1 - alpha) * d**2
    centered:  m = alpha * m + (1 - alpha) * d;  avg = sqrt(v - m**2) + eps
    else:      avg = sqrt(v) + eps
    momentum > 0:  buf = momentum * buf + d / avg;  p = p - lr * buf
    else:          p = p - lr * d / avg
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop (``alpha``, ``eps``, ``weight_decay``, ``momentum``, ``centered``,
    ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            self._check_number(group, key)

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
        state["step"] += 1
        alpha = float(group["alpha"])
        momentum = float(group["momentum"])
        lr = float(group["lr"])
        s0, s1, s2 = self._buffers(p, 3)
        d = self._direction(param, grad, float(group["weight_decay"]), group["maximize"], s0)
        square_avg = state["square_avg"]
        square_avg *= alpha
        np.multiply(d, d, out=s1)
        s1 *= 1.0 - alpha
        square_avg += s1
        if group["centered"]:
            grad_avg = state.get("grad_avg")
            if grad_avg is None:
                grad_avg = state["grad_avg"] = np.zeros_like(param)
            np.subtract(d, grad_avg, out=s1)     # lerp towards d by (1 - alpha)
            s1 *= 1.0 - alpha
            grad_avg += s1
            np.multiply(grad_avg, grad_avg, out=s1)
            np.subtract(square_avg, s1, out=s1)
            np.sqrt(s1, out=s1)
        else:
            np.sqrt(square_avg, out=s1)
        s1 += float(group["eps"])                # avg
        np.divide(d, s1, out=s2)
        if momentum > 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.zeros_like(param)
            buf *= momentum
            buf += s2
            np.multiply(buf, -lr, out=s2)
        else:
            s2 *= -lr
        param += s2
