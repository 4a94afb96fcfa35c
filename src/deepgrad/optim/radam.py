"""RAdam: Adam whose adaptive step is switched on only once the variance of the squared
average is tractable (Liu et al., 2020), as torch.optim.RAdam.

    m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,  m_hat = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5:  p -= lr m_hat r_t sqrt(1 - beta2^t) / (sqrt(v) + eps),
                r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    otherwise:  p -= lr m_hat            (SGD with momentum while the variance warms up)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class RAdam(Optimizer):
    """RAdam (``betas``, ``eps``, ``weight_decay``, ``decoupled_weight_decay``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
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
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        s0, s1 = self._buffers(p, 2)
        if wd and group["decoupled_weight_decay"]:
            param *= 1.0 - lr * wd
            wd = 0.0
        d = self._direction(param, grad, wd, group["maximize"], s0)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (d - exp_avg) * (1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += np.square(d, out=s1) * (1.0 - beta2)
        correction1, correction2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * beta2 ** t / correction2
        np.divide(exp_avg, correction1, out=s1)
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            s1 *= lr * rect * math.sqrt(correction2)
            s1 /= np.sqrt(exp_avg_sq) + float(group["eps"])
        else:
            s1 *= lr
        param -= s1
