"""2-D convolution as im2col + one GEMM, vectorised over batch, channels and pixels.

The public layout is NCHW (torch's); inside, patches are gathered channels-last
(NHWC): a strided view ``(N, Ho, Wo, kh, kw, C)`` of the padded input copied once
into a ``(N*Ho*Wo, kh*kw*C)`` matrix, so the GEMM reads long contiguous rows (about
1.7x faster than NCHW patches for the course's MNIST CNN). The output is an NCHW
view of the NHWC GEMM result: elementwise ops and pooling keep that memory order,
so the next conv's channels-last copy is a plain contiguous one.

Backward: grad_weight is one GEMM with the saved patches, grad_bias a sum, and
grad_input a GEMM followed by col2im, which adds the patch gradients back with
one strided add per kernel offset (kh*kw adds, never ``np.add.at``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepgrad.autograd import Context, Function
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


def _patches(xp: Any, out_hw: Pair, kernel: Pair, stride: Pair, dilation: Pair,
             groups: int) -> Any:
    """The read-only strided view ``(G, N, Ho, Wo, kh, kw, C/G)`` of NHWC padded input."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    cg = c // groups
    shape = (groups, n, out_hw[0], out_hw[1], kernel[0], kernel[1], cg)
    strides = (cg * sc, sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    return as_strided(xp, shape, strides, writeable=False)


class Conv2d(Function):
    """``out[n, o] = sum_{c, i, j} x_pad[n, c, s*h + d*i, s*w + d*j] * w[o, c, i, j] + b[o]``."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any = None, *, stride: Pair,
                padding: tuple[int, int, int, int], dilation: Pair, groups: int) -> Any:
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        top, bottom, left, right = padding
        hp, wp = h + top + bottom, w + left + right
        ho, wo = output_size("conv2d", (h, w), (kh, kw), stride, dilation, (hp, wp))
        g, og, k = groups, o // groups, kh * kw * cg

        # Channels-last padded copy of the input: the only pass over x.
        xp = np.zeros((n, hp, wp, c), dtype=x.dtype)
        xp[:, top:top + h, left:left + w, :] = x.transpose(0, 2, 3, 1)
        cols = _patches(xp, (ho, wo), (kh, kw), stride, dilation, g).reshape(g, n * ho * wo, k)
        del xp
        # weight (O, C/G, kh, kw) -> (G, O/G, kh*kw*C/G), matching the patch order (kh, kw, c).
        wmat = weight.reshape(g, og, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, og, k)
        if g == 1:
            out = cols[0] @ wmat[0].T                                   # (M, O)
        else:
            out = np.matmul(cols, wmat.transpose(0, 2, 1))              # (G, M, O/G)
            out = out.transpose(1, 0, 2).reshape(n * ho * wo, o)
        if bias is not None:
            out += bias
        needs = ctx.needs_input_grad
        if needs and any(needs):
            ctx.geometry = (x.shape, (kh, kw), (hp, wp), (ho, wo), stride, padding, dilation, g)
            ctx.has_bias = bias is not None
            # Patches only for grad_weight, the weight matrix only for grad_input.
            wk = None  # a copy: an optimizer may update the weight before backward
            if needs[0]:
                wk = np.ascontiguousarray(weight.reshape(g, og, cg, kh * kw).transpose(3, 0, 1, 2))
            ctx.save_for_backward(cols if needs[1] else None, wk)
        # NCHW view of NHWC memory (no copy): see the module docstring.
        return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        cols, wmat = ctx.saved_tensors  # patches (G, M, K); weight (kh*kw, G, O/G, C/G)
        (n, c, h, w), (kh, kw), (hp, wp), (ho, wo), stride, padding, dilation, g = ctx.geometry
        top, _, left, _ = padding
        o = grad.shape[1]
        og, cg = o // g, c // g
        m = n * ho * wo
        gout = grad.transpose(0, 2, 3, 1).reshape(m, o)  # free when grad is NHWC memory
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if ctx.has_bias and needs[2]:
            gb = gout.sum(axis=0)
        if needs[1]:
            if g == 1:
                gw = (gout.T @ cols[0])[None]                             # (1, O, K)
            else:
                gw = np.matmul(gout.reshape(m, g, og).transpose(1, 2, 0), cols)
            gw = gw.reshape(g, og, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(o, cg, kh, kw)
        del cols
        if needs[0]:
            # One GEMM per kernel offset, (G, M, O/G) @ (kh*kw, G, O/G, C/G), so that each
            # offset's patch gradient is contiguous for the strided add below.
            per_offset = np.matmul(gout.reshape(m, g, og).transpose(1, 0, 2), wmat)
            del gout
            gxp = np.zeros((n, hp, wp, g, cg), dtype=grad.dtype)
            dst = gxp.transpose(3, 0, 1, 2, 4)                            # (G, N, Hp, Wp, C/G)
            sh, sw = stride
            for i in range(kh):  # col2im: one strided add per kernel offset
                r = i * dilation[0]
                for j in range(kw):
                    s = j * dilation[1]
                    dst[:, :, r:r + sh * (ho - 1) + 1:sh, s:s + sw * (wo - 1) + 1:sw, :] += \
                        per_offset[i * kw + j].reshape(g, n, ho, wo, cg)
            del per_offset
            gx = gxp.reshape(n, hp, wp, c)[:, top:top + h, left:left + w, :].transpose(0, 3, 1, 2)
        if ctx.has_bias:
            return gx, gw, gb
        return gx, gw


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
                           f"kw), got shape {weight.shape}")
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
            f"C = in_channels = {expected_c}, got input of shape {input.shape}{hint}")
    x = unsqueeze(input, 0) if unbatched else input
    if x.shape[1] != expected_c:
        raise RuntimeError(
            f"conv2d: expected input with in_channels = {expected_c} channels (weight shape "
            f"{weight.shape}, groups={groups}), but received input of shape {input.shape} "
            f"with {x.shape[1]} channels")
    if o % groups:
        raise ValueError(f"conv2d: out_channels ({o}) must be divisible by groups ({groups})")
    if x.dtype.kind != "f" or x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} and weight dtype {weight.dtype} must "
                        f"be the same floating point type; convert with .float()")
    if bias is not None:
        if bias.shape != (o,):
            raise RuntimeError(f"conv2d: bias shape {bias.shape} does not match out_channels "
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
