"""The maths a backward is written with, on arrays or on Tensors alike.

A backward runs in two ways (``deepgrad.higher_order``): on arrays in a first-order
walk, where these are NumPy's functions (the fast path, nothing in between), and on
Tensors in a ``create_graph=True`` walk, where they are deepgrad's differentiable ops,
so the same formula records its own graph. Operators (``*``, ``+``, ``@``, ``-``)
and ``.reshape``/``.shape``/``.ndim``/``.T`` already mean the same on both; what
differs is spelled here, under NumPy's names and signatures.

The rule for each function: any Tensor among the arguments makes it deepgrad's op;
otherwise it is NumPy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgrad.tensor import Tensor


def _any_tensor(*values: Any) -> bool:
    return any(isinstance(v, Tensor) for v in values)


def _E() -> Any:  # noqa: N802 - the module, imported late (it imports this one)
    from deepgrad.ops import elementwise

    return elementwise


def where(cond: Any, a: Any, b: Any) -> Any:
    if not _any_tensor(cond, a, b):
        return np.where(cond, a, b)
    cond = cond._array if isinstance(cond, Tensor) else cond
    like = a if isinstance(a, Tensor) else b
    a = a if isinstance(a, Tensor) else Tensor(np.asarray(a, dtype=like.dtype), _copy=False)
    b = b if isinstance(b, Tensor) else Tensor(np.asarray(b, dtype=like.dtype), _copy=False)
    return _E().Where.apply(np.asarray(cond, dtype=bool), a, b)


def _unary(name: str, numpy_fn: Any, module: str = "elementwise") -> Any:
    def fn(x: Any) -> Any:
        if not isinstance(x, Tensor):
            return numpy_fn(x)
        import importlib

        return getattr(importlib.import_module(f"deepgrad.ops.{module}"), name)(x)

    fn.__name__ = name
    return fn


exp = _unary("exp", np.exp)
log = _unary("log", np.log)
sqrt = _unary("sqrt", np.sqrt)
sin = _unary("sin", np.sin)
cos = _unary("cos", np.cos)
tanh = _unary("tanh", np.tanh, "activation")
sinh = _unary("sinh", np.sinh, "maths")
log1p = _unary("log1p", np.log1p, "maths")
abs = _unary("abs", np.abs)  # noqa: A001 - NumPy's name
cosh = _unary("cosh", np.cosh, "maths")


def value(x: Any) -> Any:
    """The numbers of ``x``, as a constant array (for masks and tie weights, whose
    derivative is zero)."""
    return x._array if isinstance(x, Tensor) else x


def mask(x: Any, predicate: Any) -> Any:
    """``predicate(x)`` as a 0/1 factor. On a Tensor it is an op of ``x`` with a zero
    derivative -- not a constant -- so that, as in torch, a second backward through a
    ReLU-like backward still reaches ``x`` (with zeros: a parameter behind it gets a zero
    ``.grad``, not None, and an optimizer updates it as torch's would)."""
    if not isinstance(x, Tensor):
        return predicate(x)
    return _E().Rounding.apply(x, fn=lambda a: predicate(a).astype(a.dtype))


def sign(x: Any) -> Any:
    """Piecewise constant: on a Tensor, a constant (its derivative is zero)."""
    return np.sign(x._array if isinstance(x, Tensor) else x)


def sum(x: Any, axis: int | Sequence[int] | None = None,  # noqa: A001 - NumPy's name
        keepdims: bool = False) -> Any:
    if not isinstance(x, Tensor):
        return x.sum(axis=axis, keepdims=keepdims)
    from deepgrad.ops import reduce

    dims = tuple(range(x.ndim)) if axis is None else axis
    return reduce.sum(x, dim=dims, keepdim=keepdims)


def expand_dims(x: Any, axis: int | Sequence[int]) -> Any:
    if not isinstance(x, Tensor):
        return np.expand_dims(x, axis)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = x.ndim + len(axes)
    shape = list(x.shape)
    for a in sorted(int(a) % ndim for a in axes):
        shape.insert(a, 1)
    return x.reshape(tuple(shape))


def broadcast_to(x: Any, shape: Sequence[int]) -> Any:
    if not isinstance(x, Tensor):
        return np.broadcast_to(x, shape)
    if tuple(x.shape) == tuple(shape):
        return x
    return x.expand(*shape)


def astype(x: Any, dtype: Any) -> Any:
    """``x`` in ``dtype`` (no copy when it already is)."""
    if not isinstance(x, Tensor):
        return x.astype(dtype, copy=False)
    return x if x.dtype == dtype else x.to(dtype)


def swapaxes(x: Any, a: int, b: int) -> Any:
    if not isinstance(x, Tensor):
        return np.swapaxes(x, a, b)
    return x.transpose(a, b)


def transpose(x: Any, axes: Sequence[int]) -> Any:
    if not isinstance(x, Tensor):
        return x.transpose(axes)
    return x.permute(*axes)


def maximum(a: Any, b: Any) -> Any:
    if not _any_tensor(a, b):
        return np.maximum(a, b)
    return _E().maximum(a, b) if isinstance(a, Tensor) else _E().maximum(b, a)


def zeros_like(x: Any) -> Any:
    """Zeros shaped like ``x``: a constant either way."""
    array = x._array if isinstance(x, Tensor) else x
    zeros = np.zeros_like(array)
    return Tensor(zeros, _copy=False) if isinstance(x, Tensor) else zeros
