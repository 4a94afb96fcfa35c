"""Tensor factories: zeros, ones, arange, rand... (random ones draw from the global generator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.tensor import Tensor, _normalize_dtype, _shape_arg


def _float_dtype(dtype: Any) -> Any:
    return _normalize_dtype(dtype) or backend.default_float_dtype()


def _make(array: Any, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, _copy=False)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(backend.xp.zeros(_shape_arg(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(backend.xp.ones(_shape_arg(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(backend.xp.empty(_shape_arg(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 backend.int64 if isinstance(fill_value, int) else backend.default_float_dtype())
    shape = _shape_arg((size,)) if isinstance(size, (tuple, list)) else (int(size),)
    return _make(backend.xp.full(shape, fill_value, dtype=_normalize_dtype(dtype)), requires_grad)


def zeros_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _make(backend.xp.zeros(input.shape, dtype=_normalize_dtype(dtype) or input.dtype),
                 requires_grad)


def ones_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _make(backend.xp.ones(input.shape, dtype=_normalize_dtype(dtype) or input.dtype),
                 requires_grad)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None) -> Tensor:  # noqa: A002
    return _make(backend.xp.full(input.shape, fill_value,
                                 dtype=_normalize_dtype(dtype) or input.dtype), False)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _normalize_dtype(dtype) or (backend.int64 if is_int else backend.default_float_dtype())
    return _make(backend.xp.arange(start, end, step).astype(dt), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _make(backend.xp.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(backend.xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    g = generator or backend.get_generator()
    return _make(g.random(_shape_arg(size), dtype=np.float64).astype(_float_dtype(dtype)),
                 requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    g = generator or backend.get_generator()
    return _make(g.standard_normal(_shape_arg(size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None,
            generator: np.random.Generator | None = None) -> Tensor:
    if high is None:
        low, high = 0, low
    g = generator or backend.get_generator()
    shape = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
    return _make(g.integers(low, high, shape).astype(_normalize_dtype(dtype) or backend.int64),
                 False)


def randn_like(input: Tensor, dtype: Any = None) -> Tensor:  # noqa: A002
    return randn(input.shape, dtype=_normalize_dtype(dtype) or input.dtype)


def rand_like(input: Tensor, dtype: Any = None) -> Tensor:  # noqa: A002
    return rand(input.shape, dtype=_normalize_dtype(dtype) or input.dtype)


def randperm(n: int, generator: np.random.Generator | None = None) -> Tensor:
    g = generator or backend.get_generator()
    return _make(g.permutation(n).astype(backend.int64), False)
