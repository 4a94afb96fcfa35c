"""A small float64 regression problem solved in deepgrad and in torch side by side.

Both frameworks compute their own gradients (deepgrad autograd vs torch
autograd) of ``mean((tanh(X W1 + b1) W2 - Y)**2)`` from the same start, so a
parity run checks the update rule on realistic, changing gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import deepgrad as dg

SHAPES = {"W1": (5, 4), "b1": (4,), "W2": (4, 3)}


def problem_arrays(seed: int = 0, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {"X": rng.normal(size=(16, 5)), "Y": rng.normal(size=(16, 3))}
    for name, shape in SHAPES.items():
        arrays[name] = rng.normal(scale=0.5, size=shape)
    return {k: v.astype(dtype) for k, v in arrays.items()}


def dg_params(arrays: dict[str, np.ndarray]) -> list[dg.Tensor]:
    return [dg.tensor(arrays[name], requires_grad=True) for name in SHAPES]


def dg_loss(params: list[dg.Tensor], arrays: dict[str, np.ndarray]) -> dg.Tensor:
    w1, b1, w2 = params
    x, y = dg.tensor(arrays["X"]), dg.tensor(arrays["Y"])
    out = dg.tanh(x @ w1 + b1) @ w2
    return ((out - y) ** 2).mean()


def torch_params(torch: Any, arrays: dict[str, np.ndarray]) -> list[Any]:
    return [torch.tensor(arrays[name], requires_grad=True) for name in SHAPES]


def torch_loss(torch: Any, params: list[Any], arrays: dict[str, np.ndarray]) -> Any:
    w1, b1, w2 = params
    x, y = torch.tensor(arrays["X"]), torch.tensor(arrays["Y"])
    out = torch.tanh(x @ w1 + b1) @ w2
    return ((out - y) ** 2).mean()


def run_dg(opt: Any, params: list[dg.Tensor], arrays: dict[str, np.ndarray],
           steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        dg_loss(params, arrays).backward()
        opt.step()


def run_torch(torch: Any, opt: Any, params: list[Any], arrays: dict[str, np.ndarray],
              steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(torch, params, arrays).backward()
        opt.step()
