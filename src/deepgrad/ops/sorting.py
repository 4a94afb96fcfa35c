"""Sorting and scans: sort/argsort/topk/unique, prod, cumsum/cumprod (torch's ``dim`` first).

``sort`` and ``topk`` return ``(values, indices)`` named tuples as torch; the values'
gradient is scattered back through the indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops.indexing import gather
from deepgrad.ops.reduce import normalize_dims, numpy_names, values_indices
from deepgrad.tensor import Tensor


def _dim(op: str, dim: int, ndim: int) -> int:
    (axis,) = normalize_dims(op, dim, ndim)  # type: ignore[misc]
    return axis


def argsort(input: Tensor, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    axis = _dim("argsort", dim, input.ndim)
    x = input._array
    order = np.argsort(-x if descending and x.dtype.kind != "b" else x, axis=axis,
                       kind="stable")
    if descending and x.dtype.kind == "b":
        order = np.flip(np.argsort(x, axis=axis, kind="stable"), axis)
    return Tensor(order.astype(np.int64), _copy=False)


def sort(input: Tensor, dim: int = -1, descending: bool = False,  # noqa: A002
         stable: bool = False) -> Any:
    if input.ndim == 0:
        return values_indices(input * 1, Tensor(np.zeros((), np.int64), _copy=False))
    indices = argsort(input, dim, descending, stable)
    return values_indices(gather(input, dim, indices), indices)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> Any:  # noqa: A002
    axis = _dim("topk", dim, input.ndim)
    if not 0 <= k <= (input.shape[axis] if input.ndim else 1):
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, dim size "
                           f"{input.shape[axis] if input.ndim else 1})")
    order = argsort(input, axis, descending=largest)._array
    indices = Tensor(np.take(order, np.arange(k), axis=axis), _copy=False)
    return values_indices(gather(input, axis, indices), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    axis = _dim("kthvalue", dim, input.ndim)
    order = argsort(input, axis)._array
    indices = np.take(order, [k - 1], axis=axis)
    values = gather(input, axis, Tensor(indices, _copy=False))
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values_indices(values, Tensor(np.asarray(indices), _copy=False))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Sorted unique values (no gradient, as torch), with inverse indices and counts."""
    numpy_unique: Any = np.unique  # its overloads want literal flags
    result = numpy_unique(input._array, return_inverse=return_inverse,
                       return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return Tensor(result, _copy=False)
    values, *rest = result
    extras = [Tensor(np.asarray(r).astype(np.int64).reshape(input.shape) if i == 0
                     and return_inverse and dim is None else np.asarray(r).astype(np.int64),
                     _copy=False) for i, r in enumerate(rest)]
    return (Tensor(values, _copy=False), *extras)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    axes = normalize_dims("count_nonzero", dim, input.ndim)
    return Tensor(np.asarray(np.count_nonzero(input._array, axis=axes), dtype=np.int64),
                  _copy=False)


def _slices(x: Tensor, axis: int) -> list[Tensor]:
    """The slices of ``x`` along ``axis`` (views)."""
    return [x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis])]  # type: ignore[index]


class Prod(Function):
    """The product over ``axis``; the gradient of each element is the product of the
    others (exclusive products from both sides, so zeros are handled exactly)."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int | None, keepdim: bool) -> Any:
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdim))

    @staticmethod
    def decomposition(x: Tensor, axis: int | None, keepdim: bool) -> Tensor:
        """The product as a chain of multiplications along the axis (exact with zeros),
        for a graph-building backward."""
        flat = x.reshape(-1) if axis is None else x
        a = 0 if axis is None else axis
        parts = _slices(flat, a)
        if not parts:
            return Tensor(np.asarray(np.prod(x._array, axis=axis, keepdims=keepdim)),
                          _copy=False)
        out = parts[0]
        for part in parts[1:]:
            out = out * part
        if keepdim:
            shape = (1,) * x.ndim if axis is None else tuple(
                1 if d == axis else n for d, n in enumerate(x.shape))
            out = out.reshape(shape)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.flip(np.cumprod(np.concatenate(
            [ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = left * right
        if axis is None:
            return ((grad.reshape(()) * others).reshape(x.shape),)
        g = grad if ctx.keepdim else np.expand_dims(grad, axis)
        return (np.moveaxis(others, -1, axis) * g,)


@numpy_names
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Tensor:
    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind in "iub":
        axis = None if dim is None else _dim("prod", dim, x.ndim)
        return Tensor(np.asarray(np.prod(x._array, axis=axis, keepdims=keepdim),
                                 dtype=np.int64), _copy=False)
    axis = None if dim is None else _dim("prod", dim, x.ndim)
    return Prod.apply(x, axis=axis, keepdim=keepdim)


class CumSum(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a = ctx.axis
        return (np.flip(np.cumsum(np.flip(grad, a), axis=a), a),)


@numpy_names
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    x = input if dtype is None else input.to(dtype)
    if x.ndim == 0:
        return x * 1
    if x.dtype.kind in "iub":
        return Tensor(np.cumsum(x._array, axis=_dim("cumsum", dim, x.ndim), dtype=np.int64),
                      _copy=False)
    return CumSum.apply(x, axis=_dim("cumsum", dim, x.ndim))


class CumProd(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        out = np.cumprod(x, axis=axis, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def decomposition(x: Tensor, axis: int) -> Tensor:
        """Running products, one multiplication per step along the axis, for a
        graph-building backward (exact where ``x`` has zeros)."""
        from deepgrad.ops.shape import stack

        running: list[Tensor] = []
        for part in _slices(x, axis):
            running.append(part if not running else running[-1] * part)
        return stack(running, dim=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        a = ctx.axis
        if np.all(x != 0):  # d out_j / d x_i = out_j / x_i for j >= i
            return (np.flip(np.cumsum(np.flip(grad * out, a), axis=a), a) / x,)
        # With zeros, no division: dx_i = out_{i-1} * S_i where S_i = g_i + x_{i+1} S_{i+1},
        # one vectorised step per position along the axis (as torch's cumprod_backward).
        xs, gs, outs = (np.moveaxis(v, a, 0) for v in (x, grad, out))
        total = np.zeros_like(gs[0])
        result = np.empty_like(gs)
        for i in range(xs.shape[0] - 1, -1, -1):
            total = gs[i] + (xs[i + 1] * total if i + 1 < xs.shape[0] else 0)
            result[i] = total * (outs[i - 1] if i > 0 else 1)
        return (np.moveaxis(result, 0, a),)


@numpy_names
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    x = input if dtype is None else input.to(dtype)
    return CumProd.apply(x, axis=_dim("cumprod", dim, x.ndim))
