"""2-D pooling: max, average and their adaptive forms, over strided window views.

A pooling window has ``kh*kw`` offsets; each offset ``(i, j)`` picks one strided
view of the (padded) input with the output's shape, so pooling is a reduction
over kh*kw such views (four for the common 2x2 pool) and never a loop over
pixels. Max-pool keeps, per output, the offset of its (first) maximum as a
uint8 - not a full mask - and its backward routes the gradient there.

Arrays are allocated in the input's memory order, so the channels-last (or
channels-first) output of ``conv2d`` keeps its layout (see ``ops/conv.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops.conv import Pair, pair
from deepgrad.ops.shape import squeeze, unsqueeze
from deepgrad.tensor import Tensor

Window = tuple[Pair, Pair, Pair, Pair]  # kernel, stride, padding, dilation


def memory_order(x: Any) -> tuple[int, ...]:
    """The axes of ``x`` from outermost to innermost in memory: (0, 1, 2, 3) for NCHW,
    (0, 2, 3, 1) for the channels-last output of ``conv2d``."""
    return tuple(int(a) for a in np.argsort([-s for s in x.strides], kind="stable"))


def _alloc(shape: tuple[int, ...], dtype: Any, order: tuple[int, ...],
           fill: float | None = None) -> Any:
    """An array of ``shape`` laid out in memory ``order``, filled with ``fill`` if given.

    Every array of a pooling op shares its input's order, so each elementwise pass walks
    all operands contiguously."""
    stored_shape = tuple(shape[a] for a in order)
    if fill is None:
        stored = np.empty(stored_shape, dtype=dtype)
    else:
        stored = np.full(stored_shape, fill, dtype=dtype)
    return stored.transpose(np.argsort(order))


def _in_order(a: Any, order: tuple[int, ...]) -> Any:
    """``a`` itself if laid out in ``order``, else a copy that is: one pass over the small
    output-shaped gradient saves mixed-layout passes over the input-shaped one."""
    if memory_order(a) == order:
        return a
    copy = _alloc(a.shape, a.dtype, order)
    copy[...] = a
    return copy


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling output size; with ceil_mode the last window must start inside."""
    span = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(size + 2 * p - span) // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        return out
    return (size + 2 * p - span) // s + 1


def _padded_hw(hw: Pair, out_hw: Pair, win: Window) -> Pair:
    """The padded size the windows read: padding plus what ceil_mode's last window needs."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = win
    return (max(hw[0] + 2 * ph, (out_hw[0] - 1) * sh + dh * (kh - 1) + 1),
            max(hw[1] + 2 * pw, (out_hw[1] - 1) * sw + dw * (kw - 1) + 1))


def _padded(x: Any, out_hw: Pair, win: Window, fill: float) -> Any:
    """``x`` padded with ``fill`` where the windows need it, or ``x`` itself."""
    n, c, h, w = x.shape
    hp, wp = _padded_hw((h, w), out_hw, win)
    if (hp, wp) == (h, w):
        return x
    (ph, pw) = win[2]
    xp = _alloc((n, c, hp, wp), x.dtype, memory_order(x), fill)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _views(xp: Any, out_hw: Pair, win: Window) -> list[tuple[int, Any]]:
    """Per kernel offset ``t = i*kw + j``, the strided view of ``xp`` that it reads."""
    (kh, kw), (sh, sw), _, (dh, dw) = win
    ho, wo = out_hw
    return [(i * kw + j, xp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                            j * dw:j * dw + sw * (wo - 1) + 1:sw])
            for i in range(kh) for j in range(kw)]


def _scatter(write: Callable[[int, Any, bool], None], ctx: Context, dtype: Any) -> Any:
    """The input gradient, built window offset by window offset (col2im).

    ``write(t, view, add)`` puts offset t's gradient into ``view``, adding when windows
    overlap. When the windows tile the input exactly (the 2x2/2 pool on even sizes) every
    cell is written once, so the buffer needs no zero fill.
    """
    n, c, h, w = ctx.x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = ctx.win
    hp, wp = _padded_hw((h, w), ctx.out_hw, ctx.win)
    overlap = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1
    tiles = ((sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (ph, pw) == (0, 0)
             and (ctx.out_hw[0] * kh, ctx.out_hw[1] * kw) == (h, w))
    gxp = _alloc((n, c, hp, wp), dtype, ctx.order, None if tiles else 0.0)
    for t, view in _views(gxp, ctx.out_hw, ctx.win):
        write(t, view, overlap)
    return gxp[:, :, ph:ph + h, pw:pw + w]


def _max_forward(x: Any, win: Window, out_hw: Pair, want_argmax: bool) -> tuple[Any, Any]:
    """The max over each window and, if wanted, the offset of its first maximum (uint8)."""
    views = _views(_padded(x, out_hw, win, -np.inf), out_hw, win)
    order = memory_order(x)
    shape = (x.shape[0], x.shape[1]) + out_hw
    out = _alloc(shape, x.dtype, order)
    out[...] = views[0][1]
    argmax = None
    if want_argmax:
        index_type = np.uint8 if len(views) <= 256 else np.int32
        argmax = _alloc(shape, index_type, order, 0)
        greater, offset = _alloc(shape, np.bool_, order), _alloc(shape, index_type, order)
    for t, view in views[1:]:
        if argmax is not None:
            # Offsets come in increasing order, so "argmax = t where view > max" is a
            # maximum of argmax and t * (view > max); strict '>' keeps the first maximum.
            np.greater(view, out, out=greater)
            np.multiply(greater, index_type(t), out=offset)
            np.maximum(argmax, offset, out=argmax)
        np.maximum(out, view, out=out)  # NaN propagates, as torch
    if argmax is not None and np.isnan(out).any():
        # Rare: torch's rule (val > max or isnan(val)) sends the gradient to the last NaN.
        running = views[0][1].copy()
        argmax[...] = 0
        for t, view in views[1:]:
            update = (view > running) | np.isnan(view)
            np.copyto(argmax, t, where=update)
            np.copyto(running, view, where=update)
    return out, argmax


def _set_geometry(ctx: Context, x: Any, win: Window, out_hw: Pair) -> None:
    ctx.x_shape, ctx.win, ctx.out_hw, ctx.order = x.shape, win, out_hw, memory_order(x)


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, *, win: Window, out_hw: Pair) -> Any:
        needs_grad = bool(ctx.needs_input_grad and ctx.needs_input_grad[0])
        out, argmax = _max_forward(x, win, out_hw, want_argmax=needs_grad)
        if needs_grad:
            ctx.save_for_backward(argmax)
            _set_geometry(ctx, x, win, out_hw)
        return out

    @staticmethod
    def decomposition(x: Tensor, *, win: Window, out_hw: Pair) -> Tensor:
        """The max over the stacked window views, for a graph-building backward; ``max(dim)``
        picks the first maximum, as the fused op does."""
        return _window_stack(x, win, out_hw, -math.inf).max(dim=2).values

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (argmax,) = ctx.saved_tensors
        grad = _in_order(grad, ctx.order)

        def write(t: int, view: Any, add: bool) -> None:
            if add:
                view += grad * (argmax == t)
            else:
                np.multiply(grad, argmax == t, out=view)

        return (_scatter(write, ctx, grad.dtype),)


def _window_stack(x: Tensor, win: Window, out_hw: Pair, fill: float) -> Tensor:
    """``(N, C, kh*kw, Ho, Wo)``: the window views of ``x`` padded with ``fill``, stacked,
    in primitive (differentiable) ops."""
    from deepgrad.ops.shape import Pad, stack

    h, w = x.shape[2], x.shape[3]
    hp, wp = _padded_hw((h, w), out_hw, win)
    ph, pw = win[2]
    if (hp, wp) != (h, w):
        x = Pad.apply(x, widths=((0, 0), (0, 0), (ph, hp - h - ph), (pw, wp - w - pw)),
                      value=fill)
    return stack([view for _, view in _views(x, out_hw, win)], dim=2)


def _divisor(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> Any:
    """Per output along one axis, the cells its window averages: torch counts the zero
    padding (unless ``count_include_pad=False``) but never ceil_mode's overhang."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if not include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


class AvgPool2d(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, *, win: Window, out_hw: Pair, scale: Any) -> Any:
        views = _views(_padded(x, out_hw, win, 0.0), out_hw, win)
        out = _alloc((x.shape[0], x.shape[1]) + out_hw, x.dtype, memory_order(x))
        out[...] = views[0][1]
        for _, view in views[1:]:
            out += view
        out *= scale
        _set_geometry(ctx, x, win, out_hw)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _in_order(grad, ctx.order) * ctx.scale

        def write(t: int, view: Any, add: bool) -> None:
            if add:
                view += g
            else:
                view[...] = g

        return (_scatter(write, ctx, grad.dtype),)


def _adaptive_windows(size: int, out: int) -> tuple[Any, Any]:
    """torch's adaptive windows: ``[floor(i*size/out), ceil((i+1)*size/out))``."""
    i = np.arange(out)
    return (i * size) // out, -(-((i + 1) * size) // out)


def _averaging_matrix(size: int, out: int, dtype: Any) -> Any:
    """``(out, size)`` matrix whose row i averages input window i."""
    start, end = _adaptive_windows(size, out)
    cells = np.arange(size)
    inside = (cells >= start[:, None]) & (cells < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """Uneven windows as two small GEMMs: ``A_h @ x @ A_w.T``."""
    linear = True


    @staticmethod
    def forward(ctx: Context, x: Any, *, out_hw: Pair) -> Any:
        ah = _averaging_matrix(x.shape[2], out_hw[0], x.dtype)
        aw = _averaging_matrix(x.shape[3], out_hw[1], x.dtype)
        ctx.save_for_backward(ah, aw)
        return np.matmul(np.matmul(ah, x), aw.T)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        ah, aw = ctx.saved_tensors
        return (np.matmul(np.matmul(ah.T, grad), aw),)


class AdaptiveMaxPool2d(Function):
    """Uneven windows gathered at their largest size (short ones repeat their last cell)."""

    @staticmethod
    def forward(ctx: Context, x: Any, *, out_hw: Pair) -> Any:
        out, index = _adaptive_max(x, out_hw)
        ctx.save_for_backward(index)
        ctx.x_shape = x.shape
        return out

    @staticmethod
    def decomposition(x: Tensor, *, out_hw: Pair) -> Tensor:
        """A gather at each window's (first) maximum, for a graph-building backward."""
        from deepgrad.ops.indexing import Gather

        n, c, h, w = x.shape
        _, index = _adaptive_max(x._array, out_hw)
        picked = Gather.apply(x.reshape(n, c, h * w), axis=2, index=index.reshape(n, c, -1))
        return picked.reshape(n, c, *out_hw)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (index,) = ctx.saved_tensors
        n, c, h, w = ctx.x_shape
        # Windows may share their maximum: a scatter-add, done by bincount (no np.add.at).
        flat = index.reshape(n * c, -1) + (np.arange(n * c) * (h * w))[:, None]
        gx = np.bincount(flat.ravel(), weights=grad.reshape(-1), minlength=n * c * h * w)
        return (gx.astype(grad.dtype).reshape(ctx.x_shape),)


def _adaptive_max(x: Any, out_hw: Pair) -> tuple[Any, Any]:
    """Max per adaptive window and its flat ``h*W + w`` position in the input (int64)."""
    n, c, h, w = x.shape
    ho, wo = out_hw
    rows, cols = _gather_index(h, ho), _gather_index(w, wo)      # (Ho, kh), (Wo, kw)
    windows = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, Ho, kh, Wo, kw)
    windows = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, -1)
    offset = np.argmax(windows, axis=-1)  # first maximum (or first NaN), as torch
    out = np.take_along_axis(windows, offset[..., None], axis=-1)[..., 0]
    kw = cols.shape[1]
    ih = rows[np.arange(ho)[:, None], offset // kw]
    iw = cols[np.arange(wo), offset % kw]
    return out, (ih * w + iw).astype(np.int64)


def _gather_index(size: int, out: int) -> Any:
    start, end = _adaptive_windows(size, out)
    k = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)


# ---- public functions -----------------------------------------------------------------------

def _batched(op: str, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                           f"shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {input.dtype}")
    return (unsqueeze(input, 0), True) if input.ndim == 3 else (input, False)


def _window(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
            ceil_mode: bool) -> tuple[Window, Pair]:
    kernel = pair(op, "kernel_size", kernel_size)
    strides = kernel if stride is None or stride == [] or stride == () else pair(op, "stride",
                                                                                  stride)
    pads = pair(op, "padding", padding, minimum=0)
    dil = pair(op, "dilation", dilation)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel size {kernel}")
    h, w = x.shape[2:]
    out_hw = (_out_size(h, kernel[0], strides[0], pads[0], dil[0], ceil_mode),
              _out_size(w, kernel[1], strides[1], pads[1], dil[1], ceil_mode))
    if min(out_hw) < 1:
        raise RuntimeError(
            f"{op}: output size {out_hw} is too small (must be >= 1) for input of shape "
            f"{tuple(x.shape)} with kernel_size={kernel}, stride={strides}, padding={pads}, "
            f"dilation={dil}; the input is smaller than the (dilated) window")
    return (kernel, strides, pads, dil), out_hw


def _max_indices(argmax: Any, win: Window, out_hw: Pair, width: int) -> Any:
    """torch's return_indices: flat ``h*W + w`` positions in the unpadded input, int64."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw) = win
    a = argmax.astype(np.int64)
    rows = np.arange(out_hw[0])[:, None] * sh - ph + (a // kw) * dh
    cols = np.arange(out_hw[1]) * sw - pw + (a % kw) * dw
    return rows * width + cols


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """torch's ``F.max_pool2d``; the gradient goes to the first maximum of each window."""
    x, unbatched = _batched("max_pool2d", input)
    win, out_hw = _window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out = MaxPool2d.apply(x, win=win, out_hw=out_hw)
    if not return_indices:
        return squeeze(out, 0) if unbatched else out
    _, argmax = _max_forward(x._array, win, out_hw, want_argmax=True)  # rare: recompute
    idx = Tensor(_max_indices(argmax, win, out_hw, x.shape[3]), _copy=False)
    return (squeeze(out, 0), squeeze(idx, 0)) if unbatched else (out, idx)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """torch's ``F.avg_pool2d`` (padding counted in the divisor unless count_include_pad=False)."""
    x, unbatched = _batched("avg_pool2d", input)
    win, out_hw = _window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    (kh, kw), (sh, sw), (ph, pw), _ = win
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        scale: Any = np.asarray(1.0 / divisor_override, dtype=x.dtype)
    else:
        h, w = x.shape[2:]
        dh = _divisor(h, kh, sh, ph, out_hw[0], count_include_pad)
        dw = _divisor(w, kw, sw, pw, out_hw[1], count_include_pad)
        counts = dh[:, None] * dw[None, :]
        if np.all(counts == kh * kw):
            scale = np.asarray(1.0 / (kh * kw), dtype=x.dtype)
        else:
            scale = (1.0 / counts).astype(x.dtype)
    out = AvgPool2d.apply(x, win=win, out_hw=out_hw, scale=scale)
    return squeeze(out, 0) if unbatched else out


def _adaptive_size(op: str, x: Tensor, output_size: Any) -> Pair:
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(output_size))
    if min(size) < 1:
        raise RuntimeError(f"{op}: output_size must be >= 1, got {output_size!r}")
    return size  # type: ignore[return-value]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over windows chosen so the output has ``output_size`` (torch's rule)."""
    x, unbatched = _batched("adaptive_avg_pool2d", input)
    ho, wo = _adaptive_size("adaptive_avg_pool2d", x, output_size)
    h, w = x.shape[2:]
    if h % ho == 0 and w % wo == 0:  # even windows: a plain average pool
        k = (h // ho, w // wo)
        out = AvgPool2d.apply(x, win=(k, k, (0, 0), (1, 1)), out_hw=(ho, wo),
                              scale=np.asarray(1.0 / math.prod(k), dtype=x.dtype))
    else:
        out = AdaptiveAvgPool2d.apply(x, out_hw=(ho, wo))
    return squeeze(out, 0) if unbatched else out


def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Max over windows chosen so the output has ``output_size`` (torch's rule)."""
    x, unbatched = _batched("adaptive_max_pool2d", input)
    ho, wo = _adaptive_size("adaptive_max_pool2d", x, output_size)
    h, w = x.shape[2:]
    if h % ho == 0 and w % wo == 0:
        k = (h // ho, w // wo)
        return max_pool2d(input, k, k, return_indices=return_indices)
    out = AdaptiveMaxPool2d.apply(x, out_hw=(ho, wo))
    if return_indices:
        idx = Tensor(_adaptive_max(x._array, (ho, wo))[1], _copy=False)
        return (squeeze(out, 0), squeeze(idx, 0)) if unbatched else (out, idx)
    return squeeze(out, 0) if unbatched else out
