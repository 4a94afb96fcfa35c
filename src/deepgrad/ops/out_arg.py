"""The ``out=`` argument: write a result into a tensor the caller already has.

One home for torch's rules, shared by the factories and the non-differentiable
functions: ``out`` must be a Tensor that does not require grad (while grad is
on), its dtype wins when no ``dtype`` is given, and the same tensor is
returned. torch resizes an ``out`` of the wrong shape; deepgrad cannot swap a
tensor's storage from here, so it says so instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor


def check_out(op: str, out: Any, dtype: np.dtype | None = None) -> Tensor:
    """Validate ``out`` before any work is done (so a bad call draws no random numbers)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.requires_grad and autograd.is_grad_enabled():
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but the out tensor requires grad")
    if dtype is not None and np.dtype(dtype) != out.dtype:
        raise RuntimeError(f"{op}(): dtype {np.dtype(dtype)} does not match dtype of out "
                           f"parameter ({out.dtype})")
    return out


def write_out(op: str, array: Any, out: Any) -> Tensor:
    """Copy ``array`` into ``out`` (cast to its dtype) and return ``out``."""
    target = check_out(op, out)
    shape = tuple(np.shape(array))
    if tuple(target.shape) != shape:
        raise RuntimeError(
            f"{op}(): out= has shape {tuple(target.shape)} but the result has shape {shape}; "
            f"deepgrad does not resize out= tensors (torch does): pass an out of shape "
            f"{shape}, or drop out=")
    with autograd.no_grad():
        target.copy_(Tensor(np.asarray(array), _copy=False))
    return target


def accepts_out(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` with torch's ``out=``: the result is written into ``out`` and ``out`` returned.
    As in torch, this refuses inputs that require grad while grad mode is on."""

    @functools.wraps(fn)
    def wrapper(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:
        if out is None:
            return fn(*args, **kwargs)
        result = fn(*args, **kwargs)
        if result.requires_grad:
            raise RuntimeError(f"{fn.__name__}(): functions with out=... arguments don't "
                               f"support automatic differentiation, but one of the arguments "
                               f"requires grad.")
        return write_out(fn.__name__, result._array, out)

    return wrapper
