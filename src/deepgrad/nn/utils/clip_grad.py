"""Gradient clipping: rescale (by norm) or clamp (by value) gradients in place, between
``backward()`` and ``optimizer.step()``, to tame exploding gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from deepgrad.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _scale_(grad: Tensor, factor: Any) -> None:
    if grad._array.flags.writeable:
        np.multiply(grad._array, factor, out=grad._array, casting="unsafe")
    else:
        grad._array = (grad._array * factor).astype(grad.dtype, copy=False)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm is at most
    ``max_norm``; returns the norm before clipping (as torch)."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32), _copy=False)
    dtype = grads[0].dtype
    flats = [g._array.reshape(-1) for g in grads]
    if norm_type == math.inf:
        per = [np.max(np.abs(f)) if f.size else np.zeros((), f.dtype) for f in flats]
        total = np.max(np.stack(per).astype(dtype))
    else:
        per = [np.linalg.norm(f, norm_type) for f in flats]
        total = np.linalg.norm(np.asarray(per, dtype=dtype), norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"non-finite ({float(total)}), so it cannot be clipped. Set "
            f"error_if_nonfinite=False to clip anyway (the gradients become NaN).")
    coef = np.asarray(max_norm, dtype=dtype) / (total + np.asarray(1e-6, dtype=dtype))
    coef = np.minimum(coef, np.asarray(1.0, dtype=dtype))
    for g in grads:
        _scale_(g, coef)
    return Tensor(total, _copy=False)


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Deprecated torch alias of ``clip_grad_norm_`` (it clips in place too)."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: Any = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    value = float(clip_value)
    if value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        if g._array.flags.writeable:
            np.clip(g._array, -value, value, out=g._array)
        else:
            g._array = np.clip(g._array, -value, value)
