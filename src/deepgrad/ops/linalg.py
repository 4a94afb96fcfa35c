"""Matrix products: ``matmul`` (2-D, batched, vectors) and the fused ``linear`` layer op."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.autograd import Context, Function
from deepgrad.ops.elementwise import promote, unbroadcast
from deepgrad.tensor import Tensor, as_array


class MatMul(Function):
    """``a @ b`` with NumPy's rules; 1-D operands are promoted and the axis dropped after."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if a2.ndim == 2 and g.ndim == 2:
                gb = a2.T @ g
            else:
                gb = np.matmul(np.swapaxes(a2, -1, -2), g)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``x @ W.T + b`` in one node: one GEMM forward, two backward, bias by a row sum."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any = None) -> Any:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = grad @ weight
        rows = math.prod(grad.shape[:-1])  # not -1: a size-0 feature dim is allowed
        g2 = grad.reshape(rows, grad.shape[-1])
        if ctx.needs_input_grad[1]:
            gw = g2.T @ x.reshape(rows, x.shape[-1])
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if ctx.has_bias else (gx, gw)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if out is not None:
        from deepgrad.ops.out_arg import write_out

        with autograd.no_grad():
            result = matmul(input, other)
        return write_out("matmul", result._array, out)
    if not isinstance(other, Tensor):
        other = Tensor(as_array(other), _copy=False)
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{input.shape} and {other.shape}")
    k_a = input.shape[-1]
    k_b = other.shape[0] if other.ndim == 1 else other.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {input.shape} and {other.shape} cannot be multiplied "
            f"({k_a} != {k_b}: the last dim of the first must equal the "
            f"{'only' if other.ndim == 1 else 'second-to-last'} dim of the second)")
    if input.ndim > 2 and other.ndim > 2:
        try:
            np.broadcast_shapes(input.shape[:-2], other.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {input.shape} and {other.shape} "
                               f"cannot be broadcast") from None
    a, b = promote("matmul", input, other)
    return MatMul.apply(a, b)


mm = matmul
bmm = matmul


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    x_shape, w_shape = input._array.shape, weight._array.shape  # raw tuples: a hot path
    if not x_shape or x_shape[-1] != w_shape[-1]:
        raise RuntimeError(
            f"linear: input has {input.shape[-1] if input.ndim else 0} features (shape "
            f"{input.shape}) but the weight expects {weight.shape[-1]} (weight shape "
            f"{weight.shape}, i.e. in_features={weight.shape[-1]})")
    if bias is not None and bias._array.shape != (w_shape[0],):
        raise RuntimeError(f"linear: bias shape {bias.shape} does not match out_features "
                           f"({weight.shape[0]},)")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype "
                        f"{weight.dtype}; convert with .float() or .double()")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1-D tensors expected, got {input.shape} and {other.shape}")
    return matmul(input, other)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """Vector norms as ``torch.norm``: p = 2/"fro" (the default), 1, inf, -inf, 0 or any
    other number, over ``dim`` (all elements when None)."""
    from deepgrad.ops import elementwise as E
    from deepgrad.ops import reduce as R

    x = input if dtype is None else E.cast(input, dtype)
    if p in ("fro", 2, 2.0):
        return E.sqrt(R.sum(E.mul(x, x), dim=dim, keepdim=keepdim))
    if p == 1:
        return R.sum(E.abs(x), dim=dim, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return R.amax(E.abs(x), dim=dim, keepdim=keepdim)
    if p in (float("-inf"), "-inf"):
        return R.amin(E.abs(x), dim=dim, keepdim=keepdim)
    if p == 0:
        return R.sum(E.ne(x, 0).float(), dim=dim, keepdim=keepdim)
    if isinstance(p, (int, float)):
        return E.pow(R.sum(E.pow(E.abs(x), float(p)), dim=dim, keepdim=keepdim), 1.0 / p)
    raise ValueError(f"norm: unsupported p={p!r} (expected a number, 'fro', inf or -inf)")
