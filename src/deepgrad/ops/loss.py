"""Softmax, log-softmax and the losses, each one fused ``Function`` on arrays.

``cross_entropy`` is log-softmax and the negative log-likelihood in one node:
its backward is ``softmax - target`` (weighted), with no ``exp(log(.))`` round
trip, and it shifts by the row maximum, so logits of +-1e4 give finite loss and
gradients. The pointwise losses (mse, l1, smooth_l1, binary cross-entropy) share
one node that keeps the local derivatives and applies the reduction.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.ops.elementwise import broadcast_shape, unbroadcast
from deepgrad.ops.reduce import normalize_dims
from deepgrad.ops.shape import permute, reshape
from deepgrad.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _float_tensor(op: str, name: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {x.dtype}")
    return x


def _log_softmax(x: Any, axis: int) -> Any:
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


# ---- softmax ---------------------------------------------------------------------------------

class Softmax(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, *, axis: int) -> Any:
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(e)
        ctx.axis = axis
        return e

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (p,) = ctx.saved_tensors
        return (p * (grad - dual.sum(grad * p, axis=ctx.axis, keepdims=True)),)


class LogSoftmax(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, *, axis: int) -> Any:
        out = _log_softmax(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad - dual.exp(out) * dual.sum(grad, axis=ctx.axis, keepdims=True),)


def _softmax_dim(op: str, x: Tensor, dim: int | None) -> int:
    if dim is None:  # torch's legacy implicit choice
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if x.ndim == 0:
        return 0
    (axis,) = normalize_dims(op, dim, x.ndim)  # type: ignore[misc]
    return axis


def _as_dtype(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None else x.to(dtype)


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the maximum for stability."""
    x = _as_dtype(_float_tensor("softmax", "input", input), dtype)
    axis = _softmax_dim("softmax", x, dim)
    if x.ndim == 0:
        return reshape(Softmax.apply(reshape(x, 1), axis=0), ())
    return Softmax.apply(x, axis=axis)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``x - logsumexp(x)`` along ``dim``: finite even where softmax underflows to 0."""
    x = _as_dtype(_float_tensor("log_softmax", "input", input), dtype)
    axis = _softmax_dim("log_softmax", x, dim)
    if x.ndim == 0:
        return reshape(LogSoftmax.apply(reshape(x, 1), axis=0), ())
    return LogSoftmax.apply(x, axis=axis)


# ---- cross-entropy and NLL -------------------------------------------------------------------

class ClassLoss(Function):
    """NLL of ``(M, C)`` rows, optionally after a fused log-softmax.

    Class indices ``t``: ``l_i = -(1-eps) w_t logp_it - eps/C sum_c w_c logp_ic`` (zero for
    ``ignore_index`` rows) and ``mean`` divides by the summed ``w_t`` of the kept rows, as
    torch. Class probabilities ``q`` (a second input, differentiable, the rows' shape):
    ``l_i = -sum_c w_c q'_ic logp_ic`` with ``q' = (1-eps) q + eps/C``; ``mean`` divides by M.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, probs: Any = None, *, target: Any, weight: Any,
                ignore_index: int, reduction: str, label_smoothing: float,
                fused: bool) -> Any:
        logp = _log_softmax(x, 1) if fused else x
        w = np.ones(x.shape[1], dtype=x.dtype) if weight is None else weight
        losses, denom, coef = _class_losses(logp, probs, target, w, ignore_index,
                                            label_smoothing)
        out = _reduced(losses, reduction, denom)
        needs = ctx.needs_input_grad
        if needs and any(needs):
            p = np.exp(logp) if fused and needs[0] else None
            keep_logp = logp if probs is not None and needs[1] else None
            ctx.save_for_backward(p, coef, w, keep_logp)
        ctx.settings = (reduction, denom, label_smoothing, probs is not None, fused, x.shape)
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def decomposition(x: Tensor, probs: Tensor | None = None, *, target: Any, weight: Any,
                      ignore_index: int, reduction: str, label_smoothing: float,
                      fused: bool) -> Tensor:
        """The same loss on Tensors (the log-softmax op, then the forward's own formula),
        for a graph-building backward."""
        logp = log_softmax(x, 1) if fused else x
        w = np.ones(x.shape[1], dtype=x.dtype) if weight is None else weight
        losses, denom, _ = _class_losses(logp, probs, target, w, ignore_index,
                                         label_smoothing)
        return _reduced(losses, reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        p, coef, w, logp = ctx.saved_tensors
        reduction, denom, eps, soft, fused, (m, c) = ctx.settings
        dtype = grad.dtype
        if reduction == "none":
            s = grad
        elif reduction == "sum":
            s = np.broadcast_to(grad, (m,))
        else:
            s = np.broadcast_to(grad / np.asarray(denom, dtype=dtype), (m,))
        gx = gq = None
        if ctx.needs_input_grad[0]:
            # d loss / d logp, row by row.
            if soft:
                dlogp = -s[:, None] * coef
            else:
                t, wt, keep = coef
                dlogp = np.zeros((m, c), dtype=dtype)
                dlogp[np.arange(m), t] = -(1 - eps) * s * wt
                if eps:
                    dlogp -= (s * keep * (eps / c))[:, None].astype(dtype) * w
            gx = dlogp - p * dlogp.sum(axis=1, keepdims=True) if fused else dlogp
        if soft and ctx.needs_input_grad[1]:
            gq = -(1 - eps) * s[:, None] * w * logp
        return (gx, gq) if soft else (gx,)


def _class_losses(logp: Any, probs: Any, target: Any, w: Any, ignore_index: int,
                  eps: float) -> tuple[Any, Any, Any]:
    """Per-row losses from log-probabilities (arrays, or Tensors through ``dual``), the
    ``mean`` divisor, and what the backward needs of the targets."""
    m, c = logp.shape
    if probs is not None:
        q = probs if eps == 0 else probs * (1 - eps) + eps / c
        coef = dual.astype(q * w, logp.dtype)                         # (M, C)
        return -dual.sum(coef * logp, axis=1), m, coef
    keep = target != ignore_index
    t = np.where(keep, target, 0)
    wt = np.where(keep, w[t], 0).astype(logp.dtype)                  # (M,)
    losses = logp[np.arange(m), t] * -wt
    if eps:
        smooth = -dual.sum(logp * w, axis=1) * keep.astype(logp.dtype)
        losses = (1 - eps) * losses + (eps / c) * smooth
    return losses, wt.sum(), (t, wt, keep)


def _reduced(losses: Any, reduction: str, denom: Any) -> Any:
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore"):  # nothing kept: 0/0 = nan, as torch
        return losses.sum() / np.asarray(denom, dtype=losses.dtype)


def _class_loss(op: str, input: Tensor, target: Tensor, weight: Tensor | None,  # noqa: A002
                ignore_index: int, reduction: str, label_smoothing: float,
                fused: bool) -> Tensor:
    x = _float_tensor(op, "input", input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if x.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, got a scalar")
    x_shape = x._array.shape  # a raw tuple: this is a hot path
    unbatched = len(x_shape) == 1
    c = x_shape[0] if unbatched else x_shape[1]
    probs = target.dtype.kind == "f" and target._array.shape == x_shape
    index_shape = () if unbatched else (x_shape[0],) + tuple(x_shape[2:])
    if probs and not fused:
        raise TypeError(f"{op}: target must hold class indices (an integer tensor of shape "
                        f"{index_shape}), got a float tensor of shape {tuple(target.shape)}")
    if not probs:
        if tuple(target.shape) != index_shape:
            raise ValueError(
                f"{op}: target shape {tuple(target.shape)} does not match input shape "
                f"{tuple(x.shape)}: expected class indices of shape {index_shape} "
                f"(the input without its class dim 1) or class probabilities of shape "
                f"{tuple(x.shape)}")
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: expected target dtype int64 (class indices), got {target.dtype}; "
                f"use target.long(), or pass class probabilities of the input's shape "
                f"{tuple(x.shape)}")
        bad = (target._array != ignore_index) & ((target._array < 0) | (target._array >= c))
        if bad.any():
            value = int(target._array[bad].reshape(-1)[0])
            raise IndexError(
                f"{op}: target contains class index {value}, outside the valid range "
                f"[0, {c - 1}] for input with {c} classes (ignore_index={ignore_index})")
    if weight is not None:
        if tuple(weight.shape) != (c,):
            raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got "
                             f"{tuple(weight.shape)}")
        w = weight._array.astype(x.dtype, copy=False)
    else:
        w = None
    # Rows: move the class dim last and flatten the rest, (N, C, d1..) -> (M, C).
    if unbatched:
        rows = reshape(x, 1, c)
    elif x.ndim == 2:
        rows = x
    else:
        rows = reshape(permute(x, 0, *range(2, x.ndim), 1), -1, c)
    if probs:
        q = target if target.dtype == x.dtype else target.to(x.dtype)
        if unbatched:
            q = reshape(q, 1, c)
        elif x.ndim > 2:
            q = reshape(permute(q, 0, *range(2, x.ndim), 1), -1, c)
        out = ClassLoss.apply(rows, q, target=None, weight=w, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing),
                              fused=fused)
    else:
        out = ClassLoss.apply(rows, target=target._array.reshape(-1), weight=w,
                              ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=float(label_smoothing), fused=fused)
    if reduction == "none":
        return reshape(out, index_shape)
    return out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Log-softmax + NLL on logits ``(N, C)`` or ``(N, C, d1, ...)`` in one stable node.

    ``target`` holds class indices (int64, shape ``(N,)`` / ``(N, d1, ...)``) or class
    probabilities (float, the input's shape).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _class_loss("cross_entropy", input, target, weight, ignore_index, reduction,
                       label_smoothing, fused=True)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (the output of ``log_softmax``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _class_loss("nll_loss", input, target, weight, ignore_index, reduction, 0.0,
                       fused=False)


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """torch's deprecated ``size_average``/``reduce`` flags, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


# ---- pointwise losses ------------------------------------------------------------------------

def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / np.asarray(losses.size, dtype=losses.dtype) if reduction == "mean" else total


class PointwiseLoss(Function):
    """``reduce(l(x, y))`` for an elementwise ``l`` whose partials ``dl/dx, dl/dy`` are
    computed in forward (by ``kind``), so backward is one multiply per input."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, *, kind: str, reduction: str,
                params: dict[str, Any]) -> Any:
        losses, dx, dy = _POINTWISE[kind](x, y, ctx.needs_input_grad, **params)
        ctx.save_for_backward(dx, dy)
        ctx.shapes, ctx.reduction, ctx.size = (x.shape, y.shape), reduction, losses.size
        return np.asarray(_reduce(losses, reduction), dtype=x.dtype)

    @staticmethod
    def decomposition(x: Tensor, y: Tensor, *, kind: str, reduction: str,
                      params: dict[str, Any]) -> Tensor:
        """The same loss from the same formula (``_POINTWISE``, written with ``dual``) run on
        Tensors, for a graph-building backward."""
        losses = _POINTWISE[kind](x, y, (), **params)[0]
        if reduction == "none":
            return losses
        total = losses.sum()
        return total / float(losses.numel()) if reduction == "mean" else total

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        dx, dy = ctx.saved_tensors
        g = grad / np.asarray(ctx.size, dtype=grad.dtype) if ctx.reduction == "mean" else grad
        gx = None if dx is None else unbroadcast(g * dx, ctx.shapes[0])
        gy = None if dy is None else unbroadcast(g * dy, ctx.shapes[1])
        return gx, gy


def _needs(needs: tuple[bool, ...], i: int) -> bool:
    return bool(needs) and needs[i]


def _mse(x: Any, y: Any, needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
    d = x - y
    two_d = 2 * d
    return d * d, two_d if _needs(needs, 0) else None, -two_d if _needs(needs, 1) else None


def _l1(x: Any, y: Any, needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
    d = x - y
    s = dual.sign(d)
    return dual.abs(d), s if _needs(needs, 0) else None, -s if _needs(needs, 1) else None


def _smooth_l1(x: Any, y: Any, needs: tuple[bool, ...], beta: float,
               huber: bool) -> tuple[Any, Any, Any]:
    """smooth_l1 (``beta``) and huber (``delta``): huber = beta * smooth_l1."""
    d = x - y
    a = dual.abs(d)
    if beta == 0:
        losses, local = a, dual.sign(d)
    else:
        small = dual.value(a) < beta
        b = np.asarray(beta, dtype=d.dtype)
        if huber:
            losses = dual.where(small, 0.5 * d * d, b * (a - 0.5 * b))
            local = dual.where(small, d, b * dual.sign(d))
        else:
            losses = dual.where(small, 0.5 * d * d / b, a - 0.5 * b)
            local = dual.where(small, d / b, dual.sign(d))
    return losses, local if _needs(needs, 0) else None, -local if _needs(needs, 1) else None


def _bce(x: Any, y: Any, needs: tuple[bool, ...], weight: Any) -> tuple[Any, Any, Any]:
    """Binary cross-entropy of probabilities; logs clamped to >= -100 as torch."""
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
        log_x = dual.maximum(dual.log(x), -100)
        log_1mx = dual.maximum(dual.log1p(-x), -100)
    losses = -(y * log_x + (1 - y) * log_1mx)
    dx = dy = None
    if _needs(needs, 0):
        eps = np.asarray(1e-12, dtype=x.dtype)
        dx = (x - y) / dual.maximum((1 - x) * x, eps)
    if _needs(needs, 1):
        dy = log_1mx - log_x
    if weight is not None:
        losses = losses * weight
        dx = None if dx is None else dx * weight
        dy = None if dy is None else dy * weight
    return losses, dx, dy


def _softplus(z: Any) -> Any:
    """``log(1 + exp(z))`` without overflow. On Tensors (a graph-building backward) it is the
    softplus op, whose derivatives are smooth: ``max(z, 0) + log1p(exp(-|z|))`` has two
    kinks at 0 that cancel in the value but not in the second derivative."""
    if isinstance(z, Tensor):
        from deepgrad.ops.activation import softplus

        return softplus(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _bce_logits(x: Any, y: Any, needs: tuple[bool, ...], weight: Any,
                pos_weight: Any) -> tuple[Any, Any, Any]:
    """``-[pw y log s(x) + (1-y) log(1-s(x))]`` through softplus: stable for any logit."""
    sp_neg = _softplus(-x)  # -log s(x)
    pw = 1 if pos_weight is None else pos_weight
    losses = (1 - y) * x + (1 + (pw - 1) * y) * sp_neg  # log(1-s(x)) = -x - sp_neg
    dx = dy = None
    if _needs(needs, 0):
        s = 0.5 * dual.tanh(0.5 * x) + 0.5  # stable sigmoid
        dx = s * (pw * y + 1 - y) - pw * y
    if _needs(needs, 1):
        dy = pw * sp_neg - (x + sp_neg)
    if weight is not None:
        losses = losses * weight
        dx = None if dx is None else dx * weight
        dy = None if dy is None else dy * weight
    return losses, dx, dy


_POINTWISE: dict[str, Any] = {
    "mse": _mse,
    "l1": _l1,
    "smooth_l1": _smooth_l1,
    "bce": _bce,
    "bce_logits": _bce_logits,
}


def _pointwise(op: str, kind: str, input: Tensor, target: Any, reduction: str,  # noqa: A002
               size_average: Any = None, reduce: Any = None, **params: Any) -> Tensor:
    x = _float_tensor(op, "input", input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(op, reduction)
    y = target if target.dtype == x.dtype else target.to(x.dtype)
    broadcast_shape(op, tuple(x.shape), tuple(y.shape))
    if y.shape != x.shape:  # torch's warning, word for word (bce refuses this earlier)
        warnings.warn(f"Using a target size ({y.size()}) that is different to the input size "
                      f"({x.size()}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
    for name in ("weight", "pos_weight"):
        if params.get(name) is not None:
            value = params[name]
            array = value._array if isinstance(value, Tensor) else np.asarray(value)
            params[name] = array.astype(x.dtype, copy=False)
    return PointwiseLoss.apply(x, y, kind=kind, reduction=reduction, params=params)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """Mean squared error ``(x - y)^2``."""
    return _pointwise("mse_loss", "mse", input, target, reduction, size_average, reduce)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|x - y|`` (gradient ``sign``, 0 at a tie, as torch)."""
    return _pointwise("l1_loss", "l1", input, target, reduction, size_average, reduce)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta``, linear above: ``0.5 d^2 / beta`` or ``|d| - 0.5 beta``."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return _pointwise("smooth_l1_loss", "smooth_l1", input, target, reduction, size_average,
                      reduce, beta=float(beta), huber=False)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` below ``delta``, ``delta (|d| - 0.5 delta)`` above."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _pointwise("huber_loss", "smooth_l1", input, target, reduction,
                      beta=float(delta), huber=True)


def _check_unit_interval(name: str, t: Tensor, hint: str) -> None:
    """torch's "all elements of {name} should be between 0 and 1", with the range found."""
    values = t.detach().numpy()
    if values.size == 0:
        return
    low, high = values.min(), values.max()
    if not (low >= 0 and high <= 1):  # False for NaN as well
        raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between "
                           f"0 and 1, got min {low:.4g} max {high:.4g}; {hint}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1] (after a sigmoid); each log clamped to >= -100."""
    x = _float_tensor("binary_cross_entropy", "input", input)
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(x.shape):
        raise ValueError(f"binary_cross_entropy: target shape {tuple(target.shape)} must "
                         f"equal the input shape {tuple(x.shape)}")
    # torch refuses both out of [0, 1] (NaN too) with a RuntimeError, the input first
    _check_unit_interval("input", x, "apply sigmoid first or use "
                                     "binary_cross_entropy_with_logits")
    if isinstance(target, Tensor):
        _check_unit_interval("target", target, "targets are probabilities or 0/1 labels")
    return _pointwise("binary_cross_entropy", "bce", x, target, reduction, size_average,
                      reduce, weight=weight)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + BCE in one stable node; ``pos_weight`` scales the positive term."""
    x = _float_tensor("binary_cross_entropy_with_logits", "input", input)
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(x.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: target shape "
                         f"{tuple(target.shape)} must equal the input shape {tuple(x.shape)}")
    return _pointwise("binary_cross_entropy_with_logits", "bce_logits", x, target, reduction,
                      size_average, reduce, weight=weight, pos_weight=pos_weight)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices ``(*)`` -> int64 ``(*, num_classes)`` with a 1 at each index."""
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        dtype = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expected an integer (int64) tensor of class indices, "
                        f"got {dtype}")
    idx = tensor._array
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = int(idx[(idx < 0) | (idx >= num_classes)].reshape(-1)[0])
        raise IndexError(f"one_hot: class index {bad} is outside the valid range "
                         f"[0, {num_classes - 1}] for num_classes={num_classes}")
    out = (idx[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor(out, _copy=False)
