"""Rprop: resilient backpropagation, a per-weight step that grows by ``etas[1]`` while the
gradient keeps its sign and shrinks by ``etas[0]`` when it flips (Riedmiller & Braun,
1993), as torch.optim.Rprop. Only the gradient's sign is used, so it suits full-batch
training.

    s = sign(g * g_prev);  step *= etaplus where s > 0, etaminus where s < 0
    step = clamp(step, step_sizes);  g = 0 where s < 0 (skip the step after a flip)
    p -= sign(g) * step;  g_prev = g
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor


class Rprop(Optimizer):
    """Rprop (``etas``, ``step_sizes``, ``maximize``)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50.0), *,
                 maximize: bool = False) -> None:
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._check_number(group, "lr")

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(param)
            state["step_size"] = np.full_like(param, float(group["lr"]))
        state["step"] += 1
        etaminus, etaplus = (float(e) for e in group["etas"])
        low, high = (float(s) for s in group["step_sizes"])
        g = -grad if group["maximize"] else grad
        sign = np.sign(g * state["prev"])
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
        step_size = state["step_size"]
        step_size *= factor.astype(step_size.dtype)
        np.clip(step_size, low, high, out=step_size)
        g = np.where(sign < 0, 0.0, g).astype(param.dtype)
        param -= np.sign(g) * step_size
        state["prev"] = g
