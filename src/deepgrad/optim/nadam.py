"""NAdam: Adam with Nesterov momentum and a warming momentum schedule, as
torch.optim.NAdam (Dozat, 2016).

    d = g + weight_decay * p   (or p *= 1 - lr * weight_decay when decoupled)
    mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay)),  prod_t = prod_{t-1} * mu_t
    m = beta1 * m + (1 - beta1) * d;   v = beta2 * v + (1 - beta2) * d**2
    denom = sqrt(v / (1 - beta2**t)) + eps
    p = p - lr * (1 - mu_t) / (1 - prod_t) * d / denom
          - lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / denom

``mu_product`` is a Python float here; torch keeps it in a float32 scalar tensor,
so in float64 the two agree to about 1e-8 rather than to the last bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class NAdam(Optimizer):
    """NAdam (``betas``, ``eps``, ``weight_decay``, ``momentum_decay``,
    ``decoupled_weight_decay``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")
        self._check_number(group, "eps")
        self._check_number(group, "weight_decay")
        self._check_number(group, "momentum_decay")
        self._check_betas(group)

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        weight_decay = float(group["weight_decay"])
        s0, s1, s2 = self._buffers(p, 3)
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                param *= 1.0 - lr * weight_decay
            d = self._direction(param, grad, 0.0, group["maximize"], s0)
        else:
            d = self._direction(param, grad, weight_decay, group["maximize"], s0)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = float(state["mu_product"]) * mu
        state["mu_product"] = mu_product
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        np.subtract(d, exp_avg, out=s1)
        s1 *= 1.0 - beta1
        exp_avg += s1
        exp_avg_sq *= beta2
        np.multiply(d, d, out=s1)
        s1 *= 1.0 - beta2
        exp_avg_sq += s1
        np.divide(exp_avg_sq, 1.0 - beta2 ** step, out=s1)
        np.sqrt(s1, out=s1)
        s1 += float(group["eps"])                # denom
        np.divide(d, s1, out=s2)
        s2 *= -lr * (1.0 - mu) / (1.0 - mu_product)
        param += s2
        np.divide(exp_avg, s1, out=s2)
        s2 *= -lr * mu_next / (1.0 - mu_product * mu_next)
        param += s2
