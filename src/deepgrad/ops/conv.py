"""2-D convolution as im2col + one GEMM, vectorised over batch, channels and pixels.

The public layout is NCHW (torch's). Inside, the patches of a deep layer are gathered
channels-last: a strided view ``(N, Ho, Wo, kh, kw, C)`` of the padded NHWC input,
copied once into a ``(N*Ho*Wo, kh*kw*C)`` matrix whose rows are long contiguous runs
(about 1.7x faster than NCHW patches for the course's MNIST CNN). A first layer with
one to three channels has runs of only ``kw*C`` that way, so it gathers channels-first
``(C*kh*kw, N*Ho*Wo)`` patches instead (runs of ``Wo``). Either way the output is an
NCHW *view* of the GEMM result (no copy): NHWC memory, except a channels-first layer of
at most ``NARROW_ROWS`` output channels, which stays CNHW (``(O, N*Ho*Wo)`` is the fast
GEMM there). Elementwise ops and pooling keep that memory order (pooling is twice as fast
channels-last), and the next layer's gradient arrives in it for free. Stride-1 3x3 and
5x5 layers with 16+ input channels go through ``ops/winograd.py`` instead, also NHWC;
stride-1 layers with few channels in and out (the tutorial CNN's and LeNet-5's) through
``ops/conv_strips.py``: strips of output pixels times a banded weight, also NHWC.

Backward: grad_weight is one GEMM with the saved patches, grad_bias a GEMV, grad_input
one GEMM into patch gradients followed by col2im, which adds them back with one strided
add per kernel offset (kh*kw adds, never ``np.add.at``). One large GEMM rather than one
small GEMM per offset: the small ones are faster on one idle core, but multi-threaded
BLAS on small matrices collapses when the machine is busy (measured 400 ms against 69 ms
for the MNIST CNN's second layer with 2 threads under load).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepgrad.autograd import Context, Function
from deepgrad.ops import conv_strips, winograd
from deepgrad.ops.shape import squeeze, unsqueeze
from deepgrad.tensor import Tensor

Pair = tuple[int, int]


def pair(op: str, name: str, value: Any, minimum: int = 1) -> Pair:
    """An int or a pair of ints as ``(h, w)``, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(out) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return out


def output_size(op: str, size: Pair, kernel: Pair, stride: Pair, dilation: Pair,
                padded: Pair) -> Pair:
    """``(padded - dilation*(kernel-1) - 1) // stride + 1`` per axis, or an error that says why."""
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if padded[0] < span[0] or padded[1] < span[1]:
        raise RuntimeError(
            f"{op}: kernel size {kernel} (spanning {span} with dilation {dilation}) is larger "
            f"than the padded input size {padded} (input {size}); use a smaller kernel, more "
            f"padding or a larger input")
    return ((padded[0] - span[0]) // stride[0] + 1, (padded[1] - span[1]) // stride[1] + 1)


class Geometry(NamedTuple):
    x_shape: tuple[int, int, int, int]
    kernel: Pair
    padded: Pair
    out_hw: Pair
    stride: Pair
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    dilation: Pair
    groups: int


def _col2im(gxp: Any, offset_grad: Callable[[int, int], Any], geo: Geometry) -> None:
    """Add each kernel offset's patch gradient into its strided window of ``gxp``.

    ``gxp`` is viewed as ``(A, B, Hp, Wp, D)``; ``offset_grad(i, j)`` is offset (i, j)'s
    patch gradient as an ``(A, B, Ho, Wo, D)`` view. One strided add per offset.
    """
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = geo.kernel, geo.out_hw, geo.stride, geo.dilation
    for i in range(kh):
        for j in range(kw):
            window = gxp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                         j * dw:j * dw + sw * (wo - 1) + 1:sw, :]
            window += offset_grad(i, j)


def _sum_rows(g: Any, axis: int) -> Any:
    """Sum over the long axis by GEMV: about 10x faster than ``sum`` on (M, few) arrays."""
    ones = np.ones(g.shape[axis], dtype=g.dtype)
    return ones @ g if axis == 0 else g @ ones


NARROW_ROWS = 8
NARROW_BLOCK = 2048
"""A GEMM with at most ``NARROW_ROWS`` output channels over a long pixel axis (the
6-channel first layer of LeNet-5 and the tutorial CNN: (6, 75) x (75, 50176)) runs 1.4x
(forward) and 2.5x (weight gradient) faster in blocks of ``NARROW_BLOCK`` pixels, whose
patch columns stay in cache; OpenBLAS streams the whole matrix otherwise. Wider layers
measured the same or slower blocked (docs/speed.md). Those two layers now take the
strips (``ops/conv_strips.py``); the blocks serve narrow layers the strips cannot
(stride or dilation above 1, an output width no strip width divides)."""


def _narrow(rows: int, length: int) -> bool:
    return rows <= NARROW_ROWS and length > 2 * NARROW_BLOCK


def _weight_times_cols(wmat: Any, cols: Any) -> Any:
    """``wmat (O, K) @ cols (K, M)`` in blocks along M: the forward of a narrow layer
    (wider ones multiply the other way round, into NHWC memory)."""
    o, m = wmat.shape[0], cols.shape[1]
    out = np.empty((o, m), dtype=np.result_type(wmat, cols))
    for start in range(0, m, NARROW_BLOCK):
        stop = start + NARROW_BLOCK
        out[:, start:stop] = wmat @ cols[:, start:stop]
    return out


def _grad_times_cols(gout: Any, cols: Any) -> Any:
    """``gout (O, M) @ cols.T (M, K)``: the weight gradient, summed over blocks of M for a
    narrow ``O``."""
    o, m = gout.shape
    if not _narrow(o, m):
        return gout @ cols.T
    out = gout[:, :NARROW_BLOCK] @ cols[:, :NARROW_BLOCK].T
    for start in range(NARROW_BLOCK, m, NARROW_BLOCK):
        stop = start + NARROW_BLOCK
        out += gout[:, start:stop] @ cols[:, start:stop].T
    return out


def prefer_channels_first(channels: int, kw: int, wo: int, groups: int) -> bool:
    """Channels-first patches copy runs of ``Wo`` values, channels-last ones runs of
    ``kw*C``: take the longer (channels-first is implemented for groups=1)."""
    return groups == 1 and kw * channels < wo


class Conv2d(Function):
    """``out[n, o] = sum_{c, i, j} x_pad[n, c, s*h + d*i, s*w + d*j] * w[o, c, i, j] + b[o]``.

    Two patch layouts, picked by which gives longer contiguous runs to copy:
    channels-last ``(N*Ho*Wo, kh*kw*C)`` (runs of ``kw*C``; deep layers) and
    channels-first ``(C*kh*kw, N*Ho*Wo)`` (runs of ``Wo``; first layers with 1-3 channels).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any = None, *, stride: Pair,
                padding: tuple[int, int, int, int], dilation: Pair, groups: int) -> Any:
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        top, bottom, left, right = padding
        padded = (h + top + bottom, w + left + right)
        ho, wo = output_size("conv2d", (h, w), (kh, kw), stride, dilation, padded)
        geo = Geometry(x.shape, (kh, kw), padded, (ho, wo), stride, padding, dilation, groups)
        needs = ctx.needs_input_grad if ctx.needs_input_grad else (False,) * 3
        path = _path(geo, c, o)
        forward = _FORWARD[path]
        if not any(needs):
            return _forward_in_chunks(forward, x, weight, bias, geo)
        out, cols, wk = forward(x, weight, bias, geo, needs[1], needs[0])
        ctx.geo, ctx.path, ctx.has_bias = geo, path, bias is not None
        ctx.save_for_backward(cols, wk)
        return out

    @staticmethod
    def decomposition(x: Tensor, weight: Tensor, bias: Tensor | None = None, *, stride: Pair,
                      padding: tuple[int, int, int, int], dilation: Pair, groups: int) -> Tensor:
        """The same convolution in primitive ops, for a graph-building backward: one strided
        slice of the padded input per kernel offset (a loop over kh*kw, never pixels), then
        one batched matmul per group."""
        from deepgrad.ops.shape import Pad, stack

        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        top, bottom, left, right = padding
        (sh, sw), (dh, dw) = stride, dilation
        ho, wo = output_size("conv2d", (h, w), (kh, kw), stride, dilation,
                             (h + top + bottom, w + left + right))
        xp = Pad.apply(x, widths=((0, 0), (0, 0), (top, bottom), (left, right)), value=0.0)
        patches = stack([xp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                            j * dw:j * dw + sw * (wo - 1) + 1:sw]
                         for i in range(kh) for j in range(kw)], dim=2)  # (N, C, K, Ho, Wo)
        patches = patches.reshape(n, groups, cg * kh * kw, ho * wo)
        wmat = weight.reshape(1, groups, o // groups, cg * kh * kw)
        out = (wmat @ patches).reshape(n, o, ho, wo)
        return out if bias is None else out + bias.reshape(1, o, 1, 1)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        cols, wk = ctx.saved_tensors
        gx, gw, gb = _BACKWARD[ctx.path](grad, cols, wk, ctx.geo, ctx.needs_input_grad,
                                         ctx.has_bias)
        return (gx, gw, gb) if ctx.has_bias else (gx, gw)


INFERENCE_PATCH_BYTES = 16 * 2**20
"""Without a graph, the batch is convolved in chunks whose patch matrix stays near this
size: at batch 1000 the MNIST CNN's second layer would otherwise copy 627 MB of patches."""


def _forward_in_chunks(forward: Callable[..., Any], x: Any, weight: Any, bias: Any,
                       geo: Geometry) -> Any:
    """Inference: the same forward over slices of the batch, written into one output whose
    memory order is the one the single-call forward would have produced."""
    n, c, _, _ = x.shape
    (kh, kw), (ho, wo) = geo.kernel, geo.out_hw
    per_sample = ho * wo * kh * kw * (c // geo.groups) * geo.groups * x.itemsize
    chunk = max(1, INFERENCE_PATCH_BYTES // max(per_sample, 1))
    if chunk >= n:
        return forward(x, weight, bias, geo, False, False)[0]
    pieces = [forward(x[s:s + chunk], weight, bias, geo._replace(
        x_shape=(min(chunk, n - s), c, x.shape[2], x.shape[3])), False, False)[0]
        for s in range(0, n, chunk)]
    first = pieces[0]
    order = tuple(np.argsort(first.strides)[::-1])    # axes from outermost to innermost
    out = np.empty(tuple(n if a == 0 else first.shape[a] for a in order),
                   dtype=first.dtype)                    # that memory order, full batch
    view = out.transpose(np.argsort(order))              # back to NCHW axes
    start = 0
    for piece in pieces:
        view[start:start + piece.shape[0]] = piece
        start += piece.shape[0]
    return view


def _padded_input(x: Any, geo: Geometry, channels_last: bool) -> Any:
    """A zero-padded copy of ``x``: ``(N, Hp, Wp, C)`` or ``(N, C, Hp, Wp)``."""
    n, c, h, w = x.shape
    top, _, left, _ = geo.padding
    hp, wp = geo.padded
    if channels_last:
        xp = np.zeros((n, hp, wp, c), dtype=x.dtype)
        xp[:, top:top + h, left:left + w, :] = x.transpose(0, 2, 3, 1)
    else:
        xp = np.zeros((n, c, hp, wp), dtype=x.dtype)
        xp[:, :, top:top + h, left:left + w] = x
    return xp


def _forward_channels_last(x: Any, weight: Any, bias: Any, geo: Geometry, keep_cols: bool,
                           keep_weight: bool) -> tuple[Any, Any, Any]:
    n, c, _, _ = x.shape
    o, cg, kh, kw = weight.shape
    (ho, wo), (sh, sw), (dh, dw), g = geo.out_hw, geo.stride, geo.dilation, geo.groups
    og, m, k = o // g, n * ho * wo, kh * kw * cg
    xp = _padded_input(x, geo, channels_last=True)
    s_n, s_h, s_w, s_c = xp.strides
    # (G, N, Ho, Wo, kh, kw, C/G) strided view, copied once into the patch matrix.
    view = as_strided(xp, (g, n, ho, wo, kh, kw, cg),
                      (cg * s_c, s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c),
                      writeable=False)
    cols = view.reshape(g, m, k)
    del xp, view
    # weight (O, C/G, kh, kw) -> (G, O/G, kh*kw*C/G), the patch order (kh, kw, c).
    wmat = weight.reshape(g, og, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, og, k)
    if g == 1:
        out = cols[0] @ wmat[0].T                                       # (M, O)
    else:
        out = np.matmul(cols, wmat.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(m, o)
    if bias is not None:
        out += bias
    # The weight matrix (G, O/G, K) for grad_input: the reshape above made it a copy, so an
    # optimizer updating the weight in place before backward cannot change it.
    wk = wmat if keep_weight else None
    # An NCHW view of the NHWC result: no copy (see the module docstring).
    return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), cols if keep_cols else None, wk


def _backward_channels_last(grad: Any, cols: Any, wk: Any, geo: Geometry,
                            needs: tuple[bool, ...], has_bias: bool) -> tuple[Any, Any, Any]:
    n, c, h, w = geo.x_shape
    (kh, kw), (ho, wo), (hp, wp), g = geo.kernel, geo.out_hw, geo.padded, geo.groups
    top, _, left, _ = geo.padding
    o = grad.shape[1]
    og, cg, m = o // g, c // g, n * ho * wo
    gout = grad.transpose(0, 2, 3, 1).reshape(m, o)  # free when grad is NHWC memory
    gx = gw = gb = None
    if has_bias and needs[2]:
        gb = _sum_rows(gout, axis=0)
    if needs[1]:
        if g == 1:
            gw = gout.T @ cols[0]                                       # (O, K)
        else:
            gw = np.matmul(gout.reshape(m, g, og).transpose(1, 2, 0), cols)
        gw = gw.reshape(g, og, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(o, cg, kh, kw)
    del cols
    if needs[0] and g == 1:
        # Patch gradients as (K, M) = W^T (K, O) @ gout^T (O, M), K in (kh, kw, C) order:
        # each offset's block is then one contiguous (C, N, Ho, Wo) array, added into a
        # channels-first gradient (runs of Wo instead of C: faster for the small C of early
        # layers, equal for deep ones), which is also the memory order that a channels-first
        # first layer and its pooling hand to this layer.
        patches_cf = (wk[0].T @ gout.T).reshape(kh, kw, c, n, ho, wo)
        gxp_cf = np.zeros((c, n, hp, wp, 1), dtype=grad.dtype)
        _col2im(gxp_cf, lambda i, j: patches_cf[i, j][..., None], geo)
        del patches_cf
        gx = gxp_cf[:, :, top:top + h, left:left + w, 0].transpose(1, 0, 2, 3)
    elif needs[0]:
        # Patch gradients (G, M, K) = (G, M, O/G) @ (G, O/G, K), in (kh, kw, C/G) order.
        if g == 1:
            gcols = (gout @ wk[0])[None]
        else:
            gcols = np.matmul(gout.reshape(m, g, og).transpose(1, 0, 2), wk)
        patches = gcols.reshape(g, n, ho, wo, kh, kw, cg)
        gxp = np.zeros((n, hp, wp, g, cg), dtype=grad.dtype)
        _col2im(gxp.transpose(3, 0, 1, 2, 4),                           # (G, N, Hp, Wp, C/G)
                lambda i, j: patches[:, :, :, :, i, j, :], geo)
        del gcols, patches
        gx = gxp.reshape(n, hp, wp, c)[:, top:top + h, left:left + w, :].transpose(0, 3, 1, 2)
    return gx, gw, gb


def _forward_channels_first(x: Any, weight: Any, bias: Any, geo: Geometry, keep_cols: bool,
                            keep_weight: bool) -> tuple[Any, Any, Any]:
    n, c, _, _ = x.shape
    o, _, kh, kw = weight.shape
    (ho, wo), (sh, sw), (dh, dw) = geo.out_hw, geo.stride, geo.dilation
    xp = _padded_input(x, geo, channels_last=False)
    s_n, s_c, s_h, s_w = xp.strides
    view = as_strided(xp, (c, kh, kw, n, ho, wo),
                      (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw), writeable=False)
    cols = view.reshape(c * kh * kw, n * ho * wo)                        # (K, M)
    del xp, view
    wk = None
    if keep_weight:  # (O, C*kh*kw), a copy: the optimizer may update the weight in place
        wk = weight.reshape(o, -1).copy()
    kept = cols if keep_cols else None
    if _narrow(o, n * ho * wo):
        out = _weight_times_cols(weight.reshape(o, -1), cols)            # (O, M)
        if bias is not None:
            out += bias[:, None]
        # An NCHW view of (O, N, Ho, Wo) memory: no copy.
        return out.reshape(o, n, ho, wo).transpose(1, 0, 2, 3), kept, wk
    # Otherwise the output is NHWC memory, like the deeper layers' (the GEMM is as fast or
    # faster that way round): pooling, ReLU and the next layer then all walk channels last.
    rows = cols.T @ weight.reshape(o, -1).T                              # (M, O)
    if bias is not None:
        rows += bias
    return rows.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), kept, wk


def _backward_channels_first(grad: Any, cols: Any, wk: Any, geo: Geometry,
                             needs: tuple[bool, ...], has_bias: bool) -> tuple[Any, Any, Any]:
    n, c, h, w = geo.x_shape
    (kh, kw), (ho, wo) = geo.kernel, geo.out_hw
    o = grad.shape[1]
    gx = gw = gb = None
    rows = grad.transpose(0, 2, 3, 1)
    if rows.flags.c_contiguous:                       # NHWC memory (the forward's, mostly)
        rows = rows.reshape(n * ho * wo, o)           # (M, O), free
        gout = rows.T
        if has_bias and needs[2]:
            gb = _sum_rows(rows, axis=0)
        if needs[1]:
            gw = (cols @ rows).T.reshape(o, c, kh, kw)
    else:
        gout = grad.transpose(1, 0, 2, 3).reshape(o, n * ho * wo)  # free for CNHW memory
        if has_bias and needs[2]:
            gb = _sum_rows(gout, axis=1)
        if needs[1]:
            gw = _grad_times_cols(gout, cols).reshape(o, c, kh, kw)
    del cols
    if needs[0]:
        gx = _grad_input_channels_first(gout, wk, geo)
    return gx, gw, gb


def _grad_input_channels_first(gout: Any, wk: Any, geo: Geometry) -> Any:
    """grad_input from the output gradient ``gout (O, M)`` and the forward's weight copy
    ``wk (O, C*kh*kw)``: channels-first patch gradients, added back by col2im."""
    n, c, h, w = geo.x_shape
    (kh, kw), (ho, wo), (hp, wp) = geo.kernel, geo.out_hw, geo.padded
    top, _, left, _ = geo.padding
    patches = (wk.T @ gout).reshape(c, kh, kw, n, ho, wo, 1)          # (C*kh*kw, M)
    gxp = np.zeros((c, n, hp, wp, 1), dtype=gout.dtype)
    _col2im(gxp, lambda i, j: patches[:, i, j], geo)
    return gxp[:, :, top:top + h, left:left + w, 0].transpose(1, 0, 2, 3)


def _forward_strips(x: Any, weight: Any, bias: Any, geo: Geometry, keep_cols: bool,
                    keep_weight: bool) -> tuple[Any, Any, Any]:
    """A few-channel stride-1 layer as strips of output pixels times a banded weight
    (``ops/conv_strips.py``); the output is an NCHW view of NHWC memory."""
    n, _, _, _ = x.shape
    o = weight.shape[0]
    (ho, wo) = geo.out_hw
    q = conv_strips.width(wo)
    xp = _padded_input(x, geo, channels_last=True)
    cols = conv_strips.patches(xp, geo.kernel, geo.out_hw, q)      # (M/q, kh*(q+kw-1)*C)
    del xp
    out = cols @ conv_strips.banded(weight, q)                       # (M/q, q*O): NHWC
    if bias is not None:
        pixels = out.reshape(-1, o)                                  # (M, O), a view
        pixels += bias
    # (O, C*kh*kw), a copy for grad_input: the optimizer may update the weight in place.
    wk = weight.reshape(o, -1).copy() if keep_weight else None
    return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), cols if keep_cols else None, wk


def _backward_strips(grad: Any, cols: Any, wk: Any, geo: Geometry, needs: tuple[bool, ...],
                     has_bias: bool) -> tuple[Any, Any, Any]:
    n, c, _, _ = geo.x_shape
    (kh, kw), (ho, wo) = geo.kernel, geo.out_hw
    o = grad.shape[1]
    q = conv_strips.width(wo)
    # (M, O) rows: free when the gradient has the forward's NHWC memory, else one copy.
    rows = np.ascontiguousarray(grad.transpose(0, 2, 3, 1)).reshape(n * ho * wo, o)
    gx = gw = gb = None
    if has_bias and needs[2]:
        gb = _sum_rows(rows, axis=0)
    if needs[1]:
        gw = conv_strips.fold(rows.reshape(-1, q * o).T @ cols, (o, c, kh, kw), q)
    del cols
    if needs[0]:
        gx = _grad_input_channels_first(rows.T, wk, geo)
    return gx, gw, gb


def _path(geo: Geometry, channels: int, out_channels: int) -> str:
    """Winograd for stride-1 3x3/5x5 layers with 16+ input channels, strips for stride-1
    layers with few channels in and out, else the im2col layout with the longer
    contiguous runs."""
    if winograd.tile_size(geo.kernel, geo.stride, geo.dilation, geo.groups, channels):
        return "winograd"
    if conv_strips.suits(geo.stride, geo.dilation, geo.groups, channels, out_channels,
                         geo.out_hw[1]):
        return "strips"
    if prefer_channels_first(channels, geo.kernel[1], geo.out_hw[1], geo.groups):
        return "channels_first"
    return "channels_last"


def _forward_winograd(x: Any, weight: Any, bias: Any, geo: Geometry, keep_v: bool,
                      keep_u: bool) -> tuple[Any, Any, Any]:
    m = winograd.TILE[geo.kernel[0]]
    out, v, u = winograd.forward(x, weight, bias, geo.padding, geo.out_hw, m)
    return out, v if keep_v else None, u if keep_u else None


def _backward_winograd(grad: Any, v: Any, u: Any, geo: Geometry, needs: tuple[bool, ...],
                       has_bias: bool) -> tuple[Any, Any, Any]:
    gx, gw = winograd.backward(grad, v, u, geo.x_shape, geo.kernel[0], geo.padding,
                               winograd.TILE[geo.kernel[0]], needs)
    gb = None
    if has_bias and needs[2]:  # as the im2col paths: a GEMV over the (M, O) rows
        gb = _sum_rows(grad.transpose(0, 2, 3, 1).reshape(-1, grad.shape[1]), axis=0)
    return gx, gw, gb


_FORWARD = {"winograd": _forward_winograd, "channels_first": _forward_channels_first,
            "channels_last": _forward_channels_last, "strips": _forward_strips}
_BACKWARD = {"winograd": _backward_winograd, "channels_first": _backward_channels_first,
             "channels_last": _backward_channels_last, "strips": _backward_strips}


def _same_padding(kernel: Pair, dilation: Pair) -> tuple[int, int, int, int]:
    """torch's 'same': total ``d*(k-1)`` per axis, the odd extra on the bottom/right."""
    th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
    return th // 2, th - th // 2, tw // 2, tw - tw // 2


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch's ``F.conv2d`` on NCHW input (or unbatched CHW), weight (O, C/groups, kh, kw)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"conv2d: input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kh, "
                           f"kw), got shape {tuple(weight.shape)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    o, cg, kh, kw = weight.shape
    expected_c = cg * groups
    unbatched = input.ndim == 3 and input.shape[0] == expected_c
    if input.ndim != 4 and not unbatched:
        hint = (" (for a batch of single-channel images add the channel dim: x.unsqueeze(1))"
                if input.ndim == 3 else "")
        raise RuntimeError(
            f"conv2d: expected 4-D input (N, C, H, W) or 3-D unbatched (C, H, W) with "
            f"C = in_channels = {expected_c}, got input of shape {tuple(input.shape)}{hint}")
    x = unsqueeze(input, 0) if unbatched else input
    if x.shape[1] != expected_c:
        raise RuntimeError(
            f"conv2d: expected input with in_channels = {expected_c} channels (weight shape "
            f"{tuple(weight.shape)}, groups={groups}), but received input of shape "
            f"{tuple(input.shape)} "
            f"with {x.shape[1]} channels")
    if o % groups:
        raise ValueError(f"conv2d: out_channels ({o}) must be divisible by groups ({groups})")
    if x.dtype.kind != "f" or x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} and weight dtype {weight.dtype} must "
                        f"be the same floating point type; convert with .float()")
    if bias is not None:
        if bias.shape != (o,):
            raise RuntimeError(f"conv2d: bias shape {tuple(bias.shape)} does not match "
                               f"out_channels "
                               f"({o},)")
        if bias.dtype != weight.dtype:
            raise TypeError(f"conv2d: bias dtype {bias.dtype} differs from weight dtype "
                            f"{weight.dtype}")
    strides = pair("conv2d", "stride", stride)
    dil = pair("conv2d", "dilation", dilation)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if strides != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            pads = _same_padding((kh, kw), dil)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', "
                             f"got {padding!r}")
    else:
        ph, pw = pair("conv2d", "padding", padding, minimum=0)
        pads = (ph, ph, pw, pw)
    args = (x, weight) if bias is None else (x, weight, bias)
    out = Conv2d.apply(*args, stride=strides, padding=pads, dilation=dil, groups=int(groups))
    return squeeze(out, 0) if unbatched else out
