"""Batch and layer normalisation, each one graph node with a closed-form backward.

Composing them from mean/var/sub/div ops would work but costs a dozen nodes and
their saved arrays per layer; the fused backward is the textbook one:
``dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.tensor import Tensor


class BatchNorm(Function):
    """``(x - mean) * invstd * weight + bias`` per channel (axis 1).

    With ``batch_stats`` the mean and variance are the batch's, computed here (and
    folded into the running statistics in place when those are given); the backward
    then includes their dependence on ``x``. Otherwise ``running_mean``/``running_var``
    are constants (eval mode).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any = None, bias: Any = None, *,
                running_mean: Any, running_var: Any, batch_stats: bool, momentum: float,
                eps: float) -> Any:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        eps_ = np.asarray(eps, dtype=x.dtype)
        if batch_stats:
            axes = (0,) + tuple(range(2, x.ndim))
            count = x.size // x.shape[1]
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            if running_mean is not None and running_var is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1).astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += momentum * (var.reshape(-1) * (count / (count - 1))).astype(
                    running_var.dtype)
            invstd = (1.0 / np.sqrt(var + eps_)).astype(x.dtype, copy=False)
            xhat = centered
            xhat *= invstd
        else:
            mean = running_mean.reshape(shape).astype(x.dtype, copy=False)
            var = running_var.reshape(shape).astype(x.dtype, copy=False)
            invstd = (1.0 / np.sqrt(var + eps_)).astype(x.dtype, copy=False)
            xhat = (x - mean) * invstd
        out = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.batch_stats = batch_stats
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def decomposition(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, *,
                      running_mean: Any, running_var: Any, batch_stats: bool, momentum: float,
                      eps: float) -> Tensor:
        """The same normalisation in primitive ops (the running statistics untouched), for a
        graph-building backward."""
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if batch_stats:
            axes = (0,) + tuple(range(2, x.ndim))
            centered = x - x.mean(dim=axes, keepdim=True)
            var = (centered * centered).mean(dim=axes, keepdim=True)
        else:
            centered = x - running_mean.reshape(shape).astype(x.dtype, copy=False)
            var = Tensor(running_var.reshape(shape).astype(x.dtype, copy=False), _copy=False)
        out = centered * (var + eps) ** -0.5
        if weight is not None:
            out = out * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xhat, invstd, weight = ctx.saved_tensors
        axes = (0,) + tuple(range(2, grad.ndim))
        shape = (1, -1) + (1,) * (grad.ndim - 2)
        count = grad.size // grad.shape[1]
        grad_bias = grad.sum(axis=axes)
        grad_weight = (grad * xhat).sum(axis=axes)
        scale = invstd if weight is None else invstd * weight.reshape(shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            if ctx.batch_stats:
                inv_n = np.asarray(1.0 / count, dtype=grad.dtype)
                grad_x = scale * (grad - grad_bias.reshape(shape) * inv_n
                                  - xhat * (grad_weight.reshape(shape) * inv_n))
            else:
                grad_x = grad * scale
        return (grad_x,
                grad_weight if weight is not None else None,
                grad_bias if ctx.has_bias else None)


class LayerNorm(Function):
    """``(x - mean) * invstd * weight + bias`` over the last ``k`` axes, per sample."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any = None, bias: Any = None, *, k: int,
                eps: float) -> Any:
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        invstd = (1.0 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))).astype(x.dtype)
        xhat = centered * invstd
        out = xhat * weight if weight is not None else xhat
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes = axes
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def decomposition(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, *,
                      k: int, eps: float) -> Tensor:
        """The same normalisation in primitive ops, for a graph-building backward."""
        axes = tuple(range(x.ndim - k, x.ndim))
        centered = x - x.mean(dim=axes, keepdim=True)
        var = (centered * centered).mean(dim=axes, keepdim=True)
        out = centered * (var + eps) ** -0.5
        if weight is not None:
            out = out * weight
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xhat, invstd, weight = ctx.saved_tensors
        axes = ctx.axes
        lead = tuple(range(grad.ndim - len(axes)))
        grad_weight = (grad * xhat).sum(axis=lead) if weight is not None else None
        grad_bias = grad.sum(axis=lead) if ctx.has_bias else None
        grad_x = None
        if ctx.needs_input_grad[0]:
            dxhat = grad * weight if weight is not None else grad
            grad_x = invstd * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                               - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
        return grad_x, grad_weight, grad_bias


def _float_tensor(op: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {x.dtype}")
    return x


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """torch's ``F.batch_norm``: batch statistics when ``training`` (or when there are no
    running statistics), running statistics otherwise. In training the running
    statistics are updated in place: ``r = (1 - momentum) * r + momentum * batch``,
    with the unbiased batch variance, as torch."""
    x = _float_tensor("batch_norm", input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {tuple(x.shape)}")
    channels = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (channels,):
            raise RuntimeError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input has "
                               f"{channels} channels (input shape {tuple(x.shape)})")
    rm = running_mean._array if running_mean is not None else None
    rv = running_var._array if running_var is not None else None
    has_stats = rm is not None and rv is not None
    use_batch = training or not has_stats
    if use_batch and x._array.size // max(channels, 1) <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                         f"training, got input shape {tuple(x.shape)}")
    return BatchNorm.apply(x, weight, bias,
                           running_mean=rm if has_stats else None,
                           running_var=rv if has_stats else None,
                           batch_stats=use_batch, momentum=momentum, eps=eps)


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """torch's ``F.layer_norm``: normalise each sample over its last dims."""
    x = _float_tensor("layer_norm", input)
    shape = ((normalized_shape,) if isinstance(normalized_shape, int)
             else tuple(int(s) for s in normalized_shape))
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise RuntimeError(
            f"layer_norm: normalized_shape {list(shape)} must match the last {k} dims of "
            f"the input, got input shape {tuple(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected {shape}")
    return LayerNorm.apply(x, weight, bias, k=k, eps=eps)


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A (C,) tensor shaped to broadcast over (N, C, *spatial)."""
    return t.reshape(-1, *([1] * (ndim - 2)))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch's ``F.group_norm``: each sample's channels in ``num_groups`` groups, each group
    normalised over its channels and positions (a layer norm of the group), then the
    per-channel ``weight`` and ``bias``."""
    x = _float_tensor("group_norm", input)
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected input of shape (N, C, *), got {tuple(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if num_groups < 1 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise RuntimeError(f"group_norm: {name} has shape {tuple(t.shape)}, expected ({c},)")
    groups = x.reshape(n, num_groups, -1)
    out = layer_norm(groups, groups.shape[-1], eps=eps).reshape(*x.shape)
    if weight is not None:
        out = out * _per_channel(weight, x.ndim)
    if bias is not None:
        out = out + _per_channel(bias, x.ndim)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """torch's ``F.instance_norm``: each channel of each sample normalised over its
    positions. With running statistics and ``use_input_stats`` they are updated in place
    (the batch mean of the instances' means and unbiased variances); without
    ``use_input_stats`` the running statistics normalise instead."""
    x = _float_tensor("instance_norm", input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got "
                         f"{tuple(x.shape)}")
    c = x.shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        scale = (running_var + eps) ** -0.5
        out = (x - _per_channel(running_mean, x.ndim)) * _per_channel(scale, x.ndim)
        if weight is not None:
            out = out * _per_channel(weight, x.ndim)
        return out + _per_channel(bias, x.ndim) if bias is not None else out
    if running_mean is not None and running_var is not None:
        flat = x._array.reshape(x.shape[0], c, -1)
        if flat.shape[-1] <= 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                             f"training, got input of shape {tuple(x.shape)}")
        rm, rv = running_mean._array, running_var._array
        rm *= 1 - momentum
        rm += momentum * flat.mean(axis=(0, 2)).astype(rm.dtype)
        rv *= 1 - momentum
        rv += momentum * flat.var(axis=2, ddof=1).mean(axis=0).astype(rv.dtype)
    return group_norm(x, c, weight, bias, eps)


def rms_norm(input: Tensor, normalized_shape: Sequence[int] | int,  # noqa: A002
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """torch's ``F.rms_norm``: ``x / sqrt(mean(x^2) + eps)`` over the last dims (no mean
    subtracted), times ``weight``; ``eps`` defaults to the dtype's machine epsilon."""
    x = _float_tensor("rms_norm", input)
    shape = ((normalized_shape,) if isinstance(normalized_shape, int)
             else tuple(int(s) for s in normalized_shape))
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise RuntimeError(f"rms_norm: normalized_shape {list(shape)} must match the last {k} "
                           f"dims of the input, got input shape {tuple(x.shape)}")
    dims = tuple(range(x.ndim - k, x.ndim))
    floor = float(np.finfo(x.dtype).eps) if eps is None else eps
    out = x * ((x * x).mean(dims, keepdim=True) + floor) ** -0.5
    return out * weight if weight is not None else out
