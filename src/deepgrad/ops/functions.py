"""torch's top-level functions that are compositions of deepgrad's ops (``torch.diff``,
``torch.cdist``, ``torch.hstack``, ``torch.median``, ``torch.nan_to_num``, ...), and
torch's aliases (``torch.multiply`` is ``mul``).

Each is a few lines of ops that already have their backward, so gradients (and
gradients of gradients) come with them; index-valued results (``bucketize``,
``bincount``, ``tril_indices``) are computed in NumPy, as they have no gradient.
Where a formula would divide by zero or take a root of zero in a branch ``where``
discards, that branch is kept finite so its zero gradient stays zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import reduce as fold
from typing import Any

import numpy as np

from deepgrad import linalg as L
from deepgrad.ops import elementwise as E
from deepgrad.ops import indexing as I
from deepgrad.ops import linalg as M
from deepgrad.ops import maths, sorting
from deepgrad.ops import reduce as R
from deepgrad.ops import shape as S
from deepgrad.ops.creation import eye, linspace, zeros
from deepgrad.size import Size
from deepgrad.tensor import Tensor

__all__ = [
    "absolute", "multiply", "divide", "subtract", "negative", "true_divide", "positive",
    "swapdims", "moveaxis", "clamp_min", "clamp_max", "sgn", "broadcast_shapes",
    "broadcast_to", "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d", "hstack",
    "vstack", "dstack", "column_stack", "tile", "ravel", "rot90", "tensor_split", "hsplit",
    "vsplit", "dsplit", "take", "repeat_interleave", "diff", "cdist", "dist", "addcmul",
    "addcdiv", "baddbmm", "addbmm", "addmv", "addr", "diagonal", "diag_embed", "diagflat",
    "tril_indices", "triu_indices", "nan_to_num", "nansum", "nanmean", "median", "quantile",
    "nanquantile", "logit", "logaddexp", "logaddexp2", "xlogy", "isin", "bucketize",
    "searchsorted", "bincount", "cummax", "cummin", "cross", "tensordot", "inner", "kron",
    "det", "inverse", "logdet", "slogdet", "svd", "std_mean", "var_mean", "heaviside", "fmod",
    "fmax", "fmin", "deg2rad", "rad2deg", "sinc", "signbit", "erfc", "logspace", "trapezoid",
    "trapz", "cov", "corrcoef", "unravel_index", "index_add", "index_copy", "index_fill",
    "matrix_power", "chain_matmul", "block_diag", "cartesian_prod", "msort", "isneginf",
    "isposinf", "isreal", "is_floating_point", "is_nonzero", "gcd", "lcm", "ldexp",
]


def _const(values: Any, dtype: Any = None) -> Tensor:
    return Tensor(np.ascontiguousarray(values, dtype=dtype), _copy=False)


# ----------------------------------------------------------------------------- aliases

absolute, multiply, divide, subtract, negative = E.abs, E.mul, E.div, E.sub, E.neg
true_divide, swapdims, moveaxis = E.div, S.transpose, I.movedim


def positive(input: Tensor) -> Tensor:  # noqa: A002
    return input


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return E.clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return E.clamp(input, max=max)


def sgn(input: Tensor) -> Tensor:  # noqa: A002
    return E.sign(input)


# ----------------------------------------------------------------------------- shapes


def broadcast_shapes(*shapes: Any) -> Size:
    return Size(np.broadcast_shapes(*(tuple(s) if isinstance(s, (tuple, list, Size)) else (s,)
                                      for s in shapes)))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    return S.expand(input, *size)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(S.expand(t, *shape) for t in tensors)


def _atleast(tensors: Any, n: int) -> Any:
    def one(t: Tensor) -> Tensor:
        if t.ndim >= n:
            return t
        if n == 3 and t.ndim == 2:
            return S.unsqueeze(t, -1)
        if n == 3 and t.ndim == 1:
            return S.reshape(t, (1, t.shape[0], 1))
        return S.reshape(t, (1,) * (n - t.ndim) + tuple(t.shape))
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tensors[0]
    out = tuple(one(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors: Any) -> Any:
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    return _atleast(tensors, 3)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = atleast_1d(tuple(tensors)) if len(tensors) > 1 else (atleast_1d(tensors[0]),)
    return S.cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = atleast_2d(tuple(tensors)) if len(tensors) > 1 else (atleast_2d(tensors[0]),)
    return S.cat(list(ts), 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = atleast_3d(tuple(tensors)) if len(tensors) > 1 else (atleast_3d(tensors[0]),)
    return S.cat(list(ts), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    return S.cat([S.reshape(t, (t.numel(), 1)) if t.ndim < 2 else t for t in tensors], 1)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    dims = tuple(dims)
    x = S.reshape(input, (1,) * (len(dims) - input.ndim) + tuple(input.shape))
    return S.repeat(x, *((1,) * (x.ndim - len(dims)) + dims))


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    return S.reshape(input, (-1,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    a, b = (d % input.ndim for d in dims)
    k %= 4
    if k == 1:
        return S.transpose(I.flip(input, (b,)), a, b)
    if k == 2:
        return I.flip(input, (a, b))
    if k == 3:
        return I.flip(S.transpose(input, a, b), (b,))
    return input


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    size = input.shape[dim]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        big, small = size % n, size // n
        cuts = np.cumsum([small + 1] * big + [small] * (n - big))[:-1].tolist()
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, size]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        index = [slice(None)] * input.ndim
        index[dim] = slice(min(lo, size), max(min(hi, size), min(lo, size)))
        out.append(S.getitem(input, tuple(index)))
    return tuple(out)


def _split_on(input: Tensor, sections: Any, dim: int, name: str) -> tuple[Tensor, ...]:  # noqa: A002
    if isinstance(sections, (int, np.integer)) and input.shape[dim] % int(sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    return _split_on(input, sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    return _split_on(input, sections, 0, "vsplit")


def dsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    return _split_on(input, sections, 2, "dsplit")


def take(input: Tensor, index: Any) -> Tensor:  # noqa: A002
    idx = index._array if isinstance(index, Tensor) else np.asarray(index)
    return S.getitem(S.reshape(input, (-1,)), idx.astype(np.int64))


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None,  # noqa: A002
                      *, output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place."""
    if repeats is None:  # torch.repeat_interleave(counts): the indices, each count times
        counts = input._array if isinstance(input, Tensor) else np.asarray(input)
        return _const(np.repeat(np.arange(len(counts)), counts), np.int64)
    x = S.reshape(input, (-1,)) if dim is None else input
    axis = 0 if dim is None else dim % input.ndim
    reps = repeats._array if isinstance(repeats, Tensor) else np.asarray(repeats)
    index = np.repeat(np.arange(x.shape[axis]), reps)
    return I.index_select(x, axis, index)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,  # noqa: A002
         append: Tensor | None = None) -> Tensor:
    x = input
    if prepend is not None or append is not None:
        x = S.cat([t for t in (prepend, x, append) if t is not None], dim)
    for _ in range(n):
        length = x.shape[dim]
        x = I.narrow(x, dim, 1, length - 1) - I.narrow(x, dim, 0, length - 1)
    return x


# ----------------------------------------------------------------------------- distances


def _p_norm(diff_: Tensor, p: float, dim: int) -> Tensor:
    """``||d||_p`` along ``dim`` whose gradient is 0 (not NaN) where ``d`` is all zero."""
    if p == math.inf:
        return R.amax(E.abs(diff_), dim)
    if p == 0:
        return R.sum(E.ne(diff_, 0).to(diff_.dtype), dim)
    total = R.sum(E.abs(diff_) ** p if p != 2 else diff_ * diff_, dim)
    positive = total > 0
    return E.where(positive, E.where(positive, total, 1.0) ** (1.0 / p), 0.0)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Distances between the rows of (..., P, M) ``x1`` and (..., R, M) ``x2``: (..., P, R)."""
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    return _p_norm(S.unsqueeze(x1, -2) - S.unsqueeze(x2, -3), p, -1)


def dist(input: Tensor, other: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    return _p_norm(S.reshape(input - other, (-1,)), p, 0)


# ----------------------------------------------------------------------------- fused forms


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:  # noqa: A002
    return input + tensor1 * tensor2 * value


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:  # noqa: A002
    return input + tensor1 / tensor2 * value


def _beta_alpha(input: Tensor, product: Tensor, beta: float, alpha: float) -> Tensor:  # noqa: A002
    scaled = product * alpha if alpha != 1 else product
    if beta == 0:  # torch: input is ignored (NaN in it does not propagate)
        return scaled + zeros(*input.shape, dtype=product.dtype)
    return (input * beta if beta != 1 else input) + scaled


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,  # noqa: A002
            alpha: float = 1) -> Tensor:
    return _beta_alpha(input, M.bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,  # noqa: A002
           alpha: float = 1) -> Tensor:
    return _beta_alpha(input, R.sum(M.bmm(batch1, batch2), 0), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,  # noqa: A002
          alpha: float = 1) -> Tensor:
    return _beta_alpha(input, M.matmul(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,  # noqa: A002
         alpha: float = 1) -> Tensor:
    return _beta_alpha(input, M.outer(vec1, vec2), beta, alpha)


# ----------------------------------------------------------------------------- diagonals


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal of the (dim1, dim2) planes, as the last dimension."""
    a, b = dim1 % input.ndim, dim2 % input.ndim
    x = I.movedim(input, (a, b), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_r, cols - start_c))
    return S.getitem(x, (Ellipsis, np.arange(n) + start_r, np.arange(n) + start_c))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Each last-dim vector as the diagonal of a matrix (``offset`` above or below it)."""
    n = input.shape[-1]
    out = S.unsqueeze(input, -1) * eye(n, dtype=input.dtype)          # (..., n, n)
    if offset:
        k = abs(offset)
        out = S.pad(out, (k, 0, 0, k) if offset > 0 else (0, k, k, 0))
    ndim = out.ndim
    return I.movedim(out, (ndim - 2, ndim - 1), (dim1 % ndim, dim2 % ndim))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    return diag_embed(S.reshape(input, (-1,)), offset)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    return _const(np.stack(np.tril_indices(row, offset, col)), dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    return _const(np.stack(np.triu_indices(row, offset, col)), dtype)


# ----------------------------------------------------------------------------- NaN-aware


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    if input.dtype.kind != "f":
        return input
    info = np.finfo(input.dtype)
    out = E.where(E.isnan(input), nan, input)
    out = E.where(out == math.inf, info.max if posinf is None else posinf, out)
    return E.where(out == -math.inf, info.min if neginf is None else neginf, out)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
           dtype: Any = None) -> Tensor:
    return R.sum(E.where(E.isnan(input), 0.0, input), dim, keepdim=keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
            dtype: Any = None) -> Tensor:
    present = maths.logical_not(E.isnan(input))
    count = R.sum(present.to(input.dtype), dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / count


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The lower median (torch's: for an even count the smaller of the two middle values);
    with ``dim`` the (values, indices) pair."""
    if dim is None:
        flat = S.reshape(input, (-1,))
        return sorting.kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    return sorting.kthvalue(input, (input.shape[dim] + 1) // 2, dim, keepdim)


def _quantile(input: Tensor, q: Any, dim: int | None, keepdim: bool,  # noqa: A002
              interpolation: str, ignore_nan: bool) -> Tensor:
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor) and np.ndim(q) == 0
    qs = np.atleast_1d(q._array if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64))
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = S.reshape(input, (-1,)) if dim is None else I.movedim(input, dim, -1)
    ordered = sorting.sort(x, -1).values
    n = x.shape[-1]
    if ignore_nan:
        raise NotImplementedError("nanquantile: NaN-skipping is not supported; use quantile on "
                                  "the finite values")
    pos = qs * (n - 1)
    low, high = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    elif interpolation == "nearest":
        low = high = np.round(pos).astype(np.int64)  # round half to even, as torch
    frac = 0.5 if interpolation == "midpoint" else (pos - low)
    a, b = I.index_select(ordered, -1, low), I.index_select(ordered, -1, high)
    out = a + (b - a) * _const(np.broadcast_to(frac, low.shape), ordered.dtype)  # (..., k)
    out = I.movedim(out, -1, 0)                                              # (k, ...)
    if keepdim:
        out = S.unsqueeze(out, 1 + (dim % input.ndim) if dim is not None else 1)
        if dim is None:
            out = S.reshape(out, (len(qs),) + (1,) * input.ndim)
    return S.getitem(out, 0) if scalar_q else out


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    if not bool(np.isnan(input._array).any()):
        return quantile(input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


# ----------------------------------------------------------------------------- maths


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    x = input if eps is None else E.clamp(input, eps, 1 - eps)
    return E.log(x / (1 - x))


def logaddexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``log(exp(a) + exp(b))`` without overflow (the max, a constant, factored out)."""
    top = E.maximum(input, other).detach()
    top = E.where(E.isfinite(top), top, 0.0)
    return top + E.log(E.exp(input - top) + E.exp(other - top))


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    ln2 = math.log(2.0)
    return logaddexp(input * ln2, other * ln2) / ln2


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    x = input if isinstance(input, Tensor) else _const(input, np.float32)
    y = other if isinstance(other, Tensor) else _const(other, x.dtype)
    zero = x == 0
    return E.where(zero, 0.0, x * E.log(E.where(zero, 1.0, y)))


def heaviside(input: Tensor, values: Tensor) -> Tensor:  # noqa: A002
    return _const(np.heaviside(input._array, values._array).astype(input.dtype))


def fmod(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """The remainder with the dividend's sign (C's fmod): ``x - trunc(x / y) * y``."""
    return input - E.trunc(input / other).detach() * other


def fmax(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The larger, NaN ignored where only one side is NaN."""
    return E.where(E.isnan(other), input, E.where(E.isnan(input), other,
                                                  E.maximum(input, other)))


def fmin(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return E.where(E.isnan(other), input, E.where(E.isnan(input), other,
                                                  E.minimum(input, other)))


def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    return input * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    return input * (180.0 / math.pi)


def sinc(input: Tensor) -> Tensor:  # noqa: A002
    """``sin(pi x) / (pi x)``, 1 at 0."""
    zero = input == 0
    px = E.where(zero, 1.0, input) * math.pi
    return E.where(zero, 1.0, E.sin(px) / px)


def signbit(input: Tensor) -> Tensor:  # noqa: A002
    return _const(np.signbit(input._array))


def erfc(input: Tensor) -> Tensor:  # noqa: A002
    return 1 - maths.erf(input)


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    return _const(np.isneginf(input._array))


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    return _const(np.isposinf(input._array))


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    return _const(np.isreal(input._array))


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.dtype.kind == "f"


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           if input.numel() else "Boolean value of Tensor with no values is "
                           "ambiguous")
    return bool(input._array.reshape(()))


def gcd(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return _const(np.gcd(input._array, other._array))


def lcm(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return _const(np.lcm(input._array, other._array))


def ldexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return input * (2.0 ** other.to(input.dtype if input.dtype.kind == "f" else np.float32))


def logspace(start: float, end: float, steps: int, base: float = 10.0, *,
             dtype: Any = None, **_: Any) -> Tensor:
    return base ** linspace(start, end, steps, dtype=dtype)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              dim: int = -1) -> Tensor:
    n = y.shape[dim]
    avg = (I.narrow(y, dim, 1, n - 1) + I.narrow(y, dim, 0, n - 1)) / 2
    if x is None:
        return R.sum(avg, dim) * (1.0 if dx is None else dx)
    return R.sum(avg * diff(x, dim=dim if x.ndim > 1 else -1), dim)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
          dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


# ----------------------------------------------------------------------------- searching


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    a = elements._array if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._array if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _const(np.isin(a, b, invert=invert))


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    side = side or ("right" if right else "left")
    seq = sorted_sequence._array
    values = input._array if isinstance(input, Tensor) else np.asarray(input)
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=side)  # type: ignore[call-overload]
    else:
        rows = seq.reshape(-1, seq.shape[-1])
        vals = values.reshape(len(rows), -1)
        out = np.stack([np.searchsorted(r, v, side=side) for r, v in zip(rows, vals,  # type: ignore[call-overload]
                                                                          strict=True)])
        out = out.reshape(values.shape)
    return _const(out, np.int32 if out_int32 else np.int64)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    w = None if weights is None else weights._array
    out = np.bincount(input._array, w, minlength)
    return _const(out, np.int64 if w is None else (w.dtype if w.dtype.kind == "f"
                                                   else np.float64))


def _cumulative(input: Tensor, dim: int, better: Any) -> Any:  # noqa: A002
    from deepgrad.ops.reduce import values_indices

    axis = dim % input.ndim
    a = input._array
    running = better.accumulate(a, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    positions = np.broadcast_to(np.arange(a.shape[axis]).reshape(shape), a.shape)
    index = np.maximum.accumulate(np.where(a == running, positions, 0), axis=axis)
    indices = _const(index, np.int64)
    return values_indices(I.gather(input, axis, indices), indices)


def cummax(input: Tensor, dim: int) -> Any:  # noqa: A002
    return _cumulative(input, dim, np.maximum)


def cummin(input: Tensor, dim: int) -> Any:  # noqa: A002
    return _cumulative(input, dim, np.minimum)


# ----------------------------------------------------------------------------- products


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        dim = next(i for i, s in enumerate(np.broadcast_shapes(input.shape, other.shape))
                   if s == 3)
    return L.cross(input, other, dim=dim)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    if isinstance(dims, (int, np.integer)):
        axes_a = list(range(a.ndim - int(dims), a.ndim))
        axes_b = list(range(int(dims)))
    else:
        first, second = dims
        axes_a = [first] if isinstance(first, int) else list(first)
        axes_b = [second] if isinstance(second, int) else list(second)
    axes_a = [d % a.ndim for d in axes_a]
    axes_b = [d % b.ndim for d in axes_b]
    free_a = [d for d in range(a.ndim) if d not in axes_a]
    free_b = [d for d in range(b.ndim) if d not in axes_b]
    inner_size = math.prod(a.shape[d] for d in axes_a)
    left = S.reshape(S.permute(a, (*free_a, *axes_a)), (-1, inner_size))
    right = S.reshape(S.permute(b, (*axes_b, *free_b)), (inner_size, -1))
    out_shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return S.reshape(M.matmul(left, right), out_shape)


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    n = max(input.ndim, other.ndim)
    a = S.reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = S.reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    a_ = S.reshape(a, tuple(x for s in a.shape for x in (s, 1)))
    b_ = S.reshape(b, tuple(x for s in b.shape for x in (1, s)))
    return S.reshape(a_ * b_, tuple(p * q for p, q in zip(a.shape, b.shape, strict=True)))


def det(input: Tensor) -> Tensor:  # noqa: A002
    return L.det(input)


def inverse(input: Tensor) -> Tensor:  # noqa: A002
    return L.inv(input)


def slogdet(input: Tensor) -> tuple[Tensor, Tensor]:  # noqa: A002
    value = L.det(input)
    return E.sign(value).detach(), E.log(E.abs(value))


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    value = L.det(input)
    return E.where(value < 0, math.nan, E.log(E.where(value < 0, 1.0, value)))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> tuple[Tensor, ...]:  # noqa: A002
    """torch.svd's convention: ``V``, not ``V^H`` (torch.linalg.svd's)."""
    u, s, vh = L.svd(input, full_matrices=not some)
    return u, s, S.transpose(vh, -2, -1)


def matrix_power(input: Tensor, n: int) -> Tensor:  # noqa: A002
    if n == 0:
        return eye(input.shape[-1], dtype=input.dtype).expand(*input.shape)
    base = input if n > 0 else L.inv(input)
    return fold(M.matmul, [base] * abs(n))


def chain_matmul(*matrices: Tensor) -> Tensor:
    return fold(M.matmul, matrices)


def block_diag(*tensors: Tensor) -> Tensor:
    blocks = [S.reshape(t, (1, 1)) if t.ndim == 0 else S.reshape(t, (1, -1)) if t.ndim == 1
              else t for t in tensors]
    cols = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(S.pad(b, (left, cols - left - b.shape[1])))
        left += b.shape[1]
    return S.cat(rows, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    if len(tensors) == 1:
        return tensors[0]
    grids = I.meshgrid(*tensors, indexing="ij")
    return S.stack([S.reshape(g, (-1,)) for g in grids], 1)


def msort(input: Tensor) -> Tensor:  # noqa: A002
    return sorting.sort(input, 0).values


# ----------------------------------------------------------------------------- statistics


def var_mean(input: Tensor, dim: Any = None, *, correction: float = 1,  # noqa: A002
             keepdim: bool = False) -> tuple[Tensor, Tensor]:
    return (R.var(input, dim, correction=correction, keepdim=keepdim),
            R.mean(input, dim, keepdim=keepdim))


def std_mean(input: Tensor, dim: Any = None, *, correction: float = 1,  # noqa: A002
             keepdim: bool = False) -> tuple[Tensor, Tensor]:
    return (R.std(input, dim, correction=correction, keepdim=keepdim),
            R.mean(input, dim, keepdim=keepdim))


def cov(input: Tensor, *, correction: int = 1, fweights: Any = None,  # noqa: A002
        aweights: Any = None) -> Tensor:
    """The covariance of the variables in the rows of ``input`` (observations in columns)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported")
    x = S.reshape(input, (1, -1)) if input.ndim < 2 else input
    centred = x - R.mean(x, 1, keepdim=True)
    out = M.matmul(centred, S.transpose(centred, 0, 1)) / max(x.shape[1] - correction, 0)
    return S.reshape(out, ()) if input.ndim < 2 else out


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = E.sqrt(diagonal(c))
    return E.clamp(c / S.unsqueeze(d, 1) / S.unsqueeze(d, 0), -1.0, 1.0)


# ----------------------------------------------------------------------------- index writes


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[Tensor, ...]:
    flat = indices._array if isinstance(indices, Tensor) else np.asarray(indices)
    return tuple(_const(a, np.int64) for a in np.unravel_index(flat, tuple(shape)))


def _full_index(input: Tensor, dim: int, index: Any, source_shape: tuple[int, ...]) -> Any:  # noqa: A002
    idx = index._array if isinstance(index, Tensor) else np.asarray(index)
    shape = [1] * len(source_shape)
    shape[dim] = len(idx)
    return np.broadcast_to(idx.reshape(shape), source_shape)


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *,  # noqa: A002
              alpha: float = 1) -> Tensor:
    axis = dim % input.ndim
    src = source * alpha if alpha != 1 else source
    return I.scatter_add(input, axis, _full_index(input, axis, index, tuple(src.shape)), src)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:  # noqa: A002
    axis = dim % input.ndim
    return I.scatter(input, axis, _full_index(input, axis, index, tuple(source.shape)), source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    axis = dim % input.ndim
    idx = index._array if isinstance(index, Tensor) else np.asarray(index)
    mask = np.zeros(input.shape[axis], dtype=bool)
    mask[idx] = True
    shape = [1] * input.ndim
    shape[axis] = input.shape[axis]
    fill = value if not isinstance(value, Tensor) else value.to(input.dtype)
    return E.where(_const(mask.reshape(shape)), fill, input)
