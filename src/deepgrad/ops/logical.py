"""``all`` and ``any``: logical reductions, with torch's ``dim``/``keepdim`` and dtypes.

Non-zero counts as True (NaN too). The result is bool, except for a uint8
input, where torch keeps uint8; ``dim=()`` reduces nothing, as in torch.
No gradient flows: the result is boolean.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad.ops.out_arg import write_out
from deepgrad.ops.reduce import Dim, normalize_dims
from deepgrad.tensor import Tensor


def _logical(op: str, fn: Callable[..., Any], input: Tensor, dim: Dim,  # noqa: A002
             keepdim: bool, out: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    array = input.detach().numpy()
    axes = normalize_dims(op, dim, input.ndim)
    if axes == ():
        result = array.astype(np.bool_)
    elif input.ndim == 0:
        result = np.asarray(fn(array))
    else:
        result = np.asarray(fn(array, axis=axes, keepdims=keepdim))
    result = result.astype(np.uint8 if array.dtype == np.uint8 else np.bool_)
    return write_out(op, result, out) if out is not None else Tensor(result, _copy=False)


def all(input: Tensor, dim: Dim = None, keepdim: builtins.bool = False, *,  # noqa: A001, A002
        out: Tensor | None = None) -> Tensor:
    """Whether every element (along ``dim``) is non-zero."""
    return _logical("all", np.all, input, dim, keepdim, out)


def any(input: Tensor, dim: Dim = None, keepdim: builtins.bool = False, *,  # noqa: A001, A002
        out: Tensor | None = None) -> Tensor:
    """Whether some element (along ``dim``) is non-zero."""
    return _logical("any", np.any, input, dim, keepdim, out)
