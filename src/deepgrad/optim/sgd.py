"""SGD: stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.

    d = g + weight_decay * p                       (L2 folded into the gradient)
    buf = d                     on the first step,
    buf = momentum * buf + (1 - dampening) * d     after it
    d = d + momentum * buf  (nesterov)   or   d = buf
    p = p - lr * d
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent (``momentum``, ``dampening``, ``nesterov``,
    ``weight_decay``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")
        self._check_number(group, "momentum")
        self._check_number(group, "dampening")
        self._check_number(group, "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero "
                             f"dampening, got momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}")

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        s0, s1 = self._buffers(p, 2)
        d = self._direction(param, grad, float(group["weight_decay"]), group["maximize"], s0)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d.copy()
            else:
                buf *= momentum
                if dampening == 0:
                    buf += d
                else:
                    np.multiply(d, 1.0 - dampening, out=s1)
                    buf += s1
            if group["nesterov"]:
                np.multiply(buf, momentum, out=s1)
                s1 += d
                d = s1
            else:
                d = buf
        np.multiply(d, -lr, out=s1)
        param += s1
