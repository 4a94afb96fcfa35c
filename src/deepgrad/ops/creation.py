"""Tensor factories: zeros, ones, arange, rand... with torch's keyword arguments.

Every factory takes ``dtype=``, ``device=`` (the CPU, or a clear error) and
``requires_grad=``, and ``out=`` where torch has it. Random factories draw
from ``generator=`` or, by default, the one global generator, with the same
NumPy calls as before so that seeded runs repeat bit for bit.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.devices import check_device
from deepgrad.ops.out_arg import check_out, write_out
from deepgrad.random import resolve
from deepgrad.tensor import Tensor, _normalize_dtype

Shape = tuple[int, ...]


def _sizes(positional: tuple[Any, ...], keyword: Any) -> tuple[Any, ...]:
    """The size given as arguments (``zeros(2, 3)``) or as ``size=`` (``zeros(size=(2, 3))``)."""
    return positional if keyword is None else (keyword,)


def _size(op: str, size: tuple[Any, ...]) -> Shape:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)``, checked as torch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif not size:
        raise TypeError(f"{op}() missing 1 required positional argument: 'size'")
    return _dims(op, size)


def _dims(op: str, size: Any) -> Shape:
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{op}(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    dims = []
    for position, item in enumerate(size):
        if isinstance(item, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element "
                            f"of type bool at pos {position}")
        try:
            dims.append(operator.index(item))
        except TypeError:
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(item).__name__} at pos {position}") from None
    if any(d < 0 for d in dims):
        raise RuntimeError(f"{op}(): trying to create tensor with negative dimension: {dims}")
    return tuple(dims)


def _int_arg(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, (float, np.floating)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not "
                        f"{type(value).__name__}") from None


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def _prepare(op: str, device: Any, out: Any, dtype: Any, default: Any) -> np.dtype:
    """Check ``device``/``out`` first, then pick the dtype: ``dtype``, else ``out``'s, else
    ``default``."""
    check_device(device, op)
    dt = _normalize_dtype(dtype)
    if out is not None:
        check_out(op, out, dt)
        dt = dt or out.dtype
    return dt or np.dtype(default)


def _float_only(op: str, dt: np.dtype) -> None:
    if dt.kind != "f":
        raise NotImplementedError(f"{op}(): random floats need a floating point dtype "
                                  f"(float32 or float64), got {dt}")


def _finish(op: str, array: Any, out: Any, requires_grad: bool) -> Tensor:
    result = write_out(op, array, out) if out is not None else Tensor(array, _copy=False)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _fill(op: str, size: tuple[Any, ...], value: Any, out: Any, dtype: Any, device: Any,
          requires_grad: bool) -> Tensor:
    shape = _size(op, size)
    dt = _prepare(op, device, out, dtype, backend.default_float_dtype())
    if value is None:
        array = backend.xp.empty(shape, dtype=dt)
    else:
        array = backend.xp.full(shape, value, dtype=dt)
    return _finish(op, array, out, requires_grad)


def zeros(*sizes: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None,
          device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _fill("zeros", _sizes(sizes, size), 0, out, dtype, device, requires_grad)


def ones(*sizes: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None,
         device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _fill("ones", _sizes(sizes, size), 1, out, dtype, device, requires_grad)


def empty(*sizes: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None,
          device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _fill("empty", _sizes(sizes, size), None, out, dtype, device, requires_grad)


def _fill_dtype(fill_value: Any) -> np.dtype:
    """torch infers ``full``'s dtype from the fill value: bool, int64 or the default float."""
    if isinstance(fill_value, (bool, np.bool_)):
        return backend.bool_
    if isinstance(fill_value, (int, np.integer)):
        return backend.int64
    return backend.default_float_dtype()


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    value = _scalar(fill_value)
    shape = _dims("full", size)
    dt = _prepare("full", device, out, dtype, _fill_dtype(value))
    return _finish("full", backend.xp.full(shape, value, dtype=dt), out, requires_grad)


def _like(op: str, input: Tensor, value: Any, dtype: Any, device: Any,  # noqa: A002
          requires_grad: bool) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    check_device(device, op)
    dt = _normalize_dtype(dtype) or input.dtype
    if value is None:
        array = backend.xp.empty(input.shape, dtype=dt)
    else:
        array = backend.xp.full(input.shape, value, dtype=dt)
    return _finish(op, array, None, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    return _like("zeros_like", input, 0, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    return _like("ones_like", input, 1, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    return _like("empty_like", input, None, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None,  # noqa: A002
              device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("full_like", input, _scalar(fill_value), dtype, device, requires_grad)


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``arange(end)``, ``arange(start, end)``, ``arange(start, end, step)``: end excluded."""
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"arange(): unsupported range: {start} -> {end}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound ({end}) and lower bound ({start}) are "
                           f"inconsistent with step sign ({step})")
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _prepare("arange", device, out, dtype,
                  backend.int64 if is_int else backend.default_float_dtype())
    return _finish("arange", backend.xp.arange(start, end, step).astype(dt), out, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, out: Tensor | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    n = _int_arg("linspace", "steps", steps)
    if n < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {n}")
    dt = _prepare("linspace", device, out, dtype, backend.default_float_dtype())
    array = backend.xp.linspace(_scalar(start), _scalar(end), n).astype(dt)
    return _finish("linspace", array, out, requires_grad)


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: Any = None,
        device: Any = None, requires_grad: bool = False) -> Tensor:
    rows = _int_arg("eye", "n", n)
    cols = rows if m is None else _int_arg("eye", "m", m)
    if rows < 0 or cols < 0:
        raise RuntimeError(f"eye(): n and m must be greater or equal to 0, got n={rows}, "
                           f"m={cols}")
    dt = _prepare("eye", device, out, dtype, backend.default_float_dtype())
    return _finish("eye", backend.xp.eye(rows, cols, dtype=dt), out, requires_grad)


# ---- random factories -----------------------------------------------------------


def rand(*sizes: Any, size: Any = None, generator: Any = None, out: Tensor | None = None,
         dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    shape = _size("rand", _sizes(sizes, size))
    dt = _prepare("rand", device, out, dtype, backend.default_float_dtype())
    _float_only("rand", dt)
    g = resolve(generator, "rand")
    return _finish("rand", g.random(shape, dtype=np.float64).astype(dt), out, requires_grad)


def randn(*sizes: Any, size: Any = None, generator: Any = None, out: Tensor | None = None,
          dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    shape = _size("randn", _sizes(sizes, size))
    dt = _prepare("randn", device, out, dtype, backend.default_float_dtype())
    _float_only("randn", dt)
    g = resolve(generator, "randn")
    return _finish("randn", g.standard_normal(shape).astype(dt), out, requires_grad)


def randint(low: Any = 0, high: Any = None, size: Any = None, *, generator: Any = None,
            out: Tensor | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required argument: 'size' (a tuple of ints)")
    shape = _dims("randint", size)
    lo, hi = _int_arg("randint", "low", low), _int_arg("randint", "high", high)
    if lo >= hi:
        raise RuntimeError(f"randint(): expects 'low' to be less than 'high', but got "
                           f"low={lo} >= high={hi}")
    dt = _prepare("randint", device, out, dtype, backend.int64)
    g = resolve(generator, "randint")
    return _finish("randint", g.integers(lo, hi, shape).astype(dt), out, requires_grad)


def randperm(n: int, *, generator: Any = None, out: Tensor | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    count = _int_arg("randperm", "n", n)
    if count < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {count}")
    dt = _prepare("randperm", device, out, dtype, backend.int64)
    g = resolve(generator, "randperm")
    return _finish("randperm", g.permutation(count).astype(dt), out, requires_grad)


def _check_like(op: str, input: Any) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None,  # noqa: A002
              device: Any = None, requires_grad: bool = False) -> Tensor:
    x = _check_like("rand_like", input)
    return rand(x.shape, generator=generator, dtype=_normalize_dtype(dtype) or x.dtype,
                device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None,  # noqa: A002
               device: Any = None, requires_grad: bool = False) -> Tensor:
    x = _check_like("randn_like", input)
    return randn(x.shape, generator=generator, dtype=_normalize_dtype(dtype) or x.dtype,
                 device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *,  # noqa: A002
                 generator: Any = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
    """``randint_like(x, high)`` or ``randint_like(x, low, high)``, in ``x``'s dtype."""
    x = _check_like("randint_like", input)
    if high is None:
        low, high = 0, low
    return randint(low, high, x.shape, generator=generator,
                   dtype=_normalize_dtype(dtype) or x.dtype, device=device,
                   requires_grad=requires_grad)
