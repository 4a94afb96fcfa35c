"""Reductions: sum, mean, var/std, max/min, logsumexp, argmax (torch's ``dim``/``keepdim``)."""

from __future__ import annotations

import builtins
import functools
from collections import namedtuple
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.tensor import Tensor

Dim = int | tuple[int, ...] | list[int] | None
values_indices = namedtuple("values_indices", ["values", "indices"])


def normalize_dims(op: str, dim: Dim, ndim: int) -> tuple[int, ...] | None:
    """Positive axes for ``dim`` (None means all), or an error naming the op and the range."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    result = []
    lo, hi = -builtins.max(ndim, 1), builtins.max(ndim, 1) - 1
    for d in dims:
        if not lo <= d <= hi:
            raise IndexError(
                f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], "
                f"but got {d})")
        result.append(int(d) % builtins.max(ndim, 1))
    return tuple(result)


def numpy_names(fn: Any) -> Any:
    """Accept NumPy's spellings beside torch's, as torch does: ``axis`` for ``dim`` and
    ``keepdims`` for ``keepdim``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return wrapper


def _expand_back(grad: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None,
                 keepdim: bool) -> Any:
    """Reinsert reduced axes so ``grad`` broadcasts against the input."""
    if axes is None:
        return grad.reshape((1,) * len(shape)) if len(shape) else grad
    if not keepdim:
        grad = dual.expand_dims(grad, axes)
    return grad


class Sum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return (dual.broadcast_to(g, ctx.shape),)


class Mean(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        return np.asarray(x.mean(axis=axes, keepdims=keepdim), dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim)
        scale = np.asarray(1.0 / builtins.max(ctx.count, 1), dtype=grad.dtype)
        return (dual.broadcast_to(g * scale, ctx.shape),)


class Var(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdim: bool,
                correction: int) -> Any:
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        denom = builtins.max(count - correction, 0)
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim, ctx.denom, ctx.count = axes, keepdim, denom, count
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (centered * centered).sum(axis=axes, keepdims=keepdim) / x.dtype.type(denom)
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        centered = x - dual.sum(x, ctx.axes, keepdims=True) / x.dtype.type(builtins.max(
            ctx.count, 1))
        g = _expand_back(grad, x.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dual.astype((2.0 / ctx.denom) * g * centered, grad.dtype),)


class MaxMin(Function):
    """``amax``/``amin`` over axes: ties share the gradient equally (torch's amax)."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdim: bool,
                largest: bool) -> Any:
        reduce = np.max if largest else np.min
        out = np.asarray(reduce(x, axis=axes, keepdims=True))
        mask = x == out
        ctx.save_for_backward(mask)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else (out.reshape(()) if axes is None else np.squeeze(out, axes))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (mask,) = ctx.saved_tensors
        g = _expand_back(grad, mask.shape, ctx.axes, ctx.keepdim)
        count = mask.sum(axis=ctx.axes, keepdims=True)
        return (dual.astype(g * mask / count, grad.dtype),)


class MaxMinDim(Function):
    """Values of ``max(dim)``/``min(dim)``: the gradient goes to the chosen index only."""
    linear = True  # in x, the indices fixed


    @staticmethod
    def forward(ctx: Context, x: Any, dim: int, keepdim: bool, indices: Any) -> Any:
        idx = np.expand_dims(indices, dim)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        out = np.take_along_axis(x, idx, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (idx,) = ctx.saved_tensors
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.dim)
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(full, idx, g, axis=ctx.dim)
        return (full,)


class LogSumExp(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(x - m)
        s = e.sum(axis=axes, keepdims=True)
        out = np.log(s) + m
        ctx.axes, ctx.keepdim = axes, keepdim
        out = out if keepdim else np.squeeze(out, axes)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        keep = (lambda v: v) if ctx.keepdim else (lambda v: dual.expand_dims(v, ctx.axes))
        return (keep(grad) * dual.exp(x - keep(out)),)


def _float(op: str, x: Tensor) -> Tensor:
    if x.dtype.kind != "f":
        from deepgrad import backend
        from deepgrad.ops.elementwise import _cast

        return _cast(x, backend.default_float_dtype())
    return x


@numpy_names
def sum(input: Tensor, dim: Dim = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A001, A002
    axes = normalize_dims("sum", dim, input.ndim)
    if input.dtype == np.bool_:
        input = Tensor(input._array.astype(np.int64), _copy=False)
    out = Sum.apply(input, axes=axes, keepdim=keepdim)
    return out.to(dtype) if dtype is not None else out


@numpy_names
def mean(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    if input.dtype.kind != "f":
        raise TypeError(f"mean: input dtype should be floating point, got {input.dtype}; "
                        f"use .float() first")
    axes = normalize_dims("mean", dim, input.ndim)
    return Mean.apply(input, axes=axes, keepdim=keepdim)


@numpy_names
def var(input: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,  # noqa: A002
        *, correction: int | None = None) -> Tensor:
    """Unbiased by default (Bessel's correction), as torch."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_dims("var", dim, input.ndim)
    return Var.apply(_float("var", input), axes=axes, keepdim=keepdim, correction=correction)


@numpy_names
def std(input: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,  # noqa: A002
        *, correction: int | None = None) -> Tensor:
    from deepgrad.ops.elementwise import sqrt

    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


@numpy_names
def amax(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    _check_nonempty("amax", input)
    return MaxMin.apply(input, axes=normalize_dims("amax", dim, input.ndim), keepdim=keepdim,
                        largest=True)


@numpy_names
def amin(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    _check_nonempty("amin", input)
    return MaxMin.apply(input, axes=normalize_dims("amin", dim, input.ndim), keepdim=keepdim,
                        largest=False)


def _check_nonempty(op: str, x: Tensor) -> None:
    if x.numel() == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {tuple(x.shape)}")


def _max_min(op: str, largest: bool, input: Tensor, dim: Any, keepdim: bool) -> Any:  # noqa: A002
    _check_nonempty(op, input)
    if dim is None:
        return MaxMin.apply(input, axes=None, keepdim=False, largest=largest)
    if isinstance(dim, Tensor):  # torch.max(a, b) elementwise form
        from deepgrad.ops.elementwise import maximum, minimum

        return maximum(input, dim) if largest else minimum(input, dim)
    (axis,) = normalize_dims(op, dim, input.ndim)  # type: ignore[misc]
    indices = (np.argmax if largest else np.argmin)(input._array, axis=axis)
    values = MaxMinDim.apply(input, dim=axis, keepdim=keepdim, indices=indices)
    idx = Tensor(np.expand_dims(indices, axis) if keepdim else indices, _copy=False)
    return values_indices(values, idx)


@numpy_names
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    """``max(x)``: a scalar; ``max(x, dim)``: (values, indices); ``max(x, y)``: elementwise."""
    return _max_min("max", True, input, dim, keepdim)


@numpy_names
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    return _max_min("min", False, input, dim, keepdim)


@numpy_names
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    if dim is None:
        return Tensor(np.asarray(np.argmax(input._array), dtype=np.int64), _copy=False)
    (axis,) = normalize_dims("argmax", dim, input.ndim)  # type: ignore[misc]
    return Tensor(np.argmax(input._array, axis=axis, keepdims=keepdim).astype(np.int64),
                  _copy=False)


@numpy_names
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    if dim is None:
        return Tensor(np.asarray(np.argmin(input._array), dtype=np.int64), _copy=False)
    (axis,) = normalize_dims("argmin", dim, input.ndim)  # type: ignore[misc]
    return Tensor(np.argmin(input._array, axis=axis, keepdims=keepdim).astype(np.int64),
                  _copy=False)


@numpy_names
def logsumexp(input: Tensor, dim: Dim, keepdim: bool = False) -> Tensor:  # noqa: A002
    axes = normalize_dims("logsumexp", dim, input.ndim)
    return LogSumExp.apply(_float("logsumexp", input), axes=axes, keepdim=keepdim)
