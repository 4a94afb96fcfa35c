"""``conv1d``, ``conv_transpose2d`` and ``conv_transpose1d``, written with ``conv2d``.

A 1-D convolution is a 2-D one over images of height 1. A transposed convolution is
the gradient of a convolution with respect to its input: spread the input ``stride``
pixels apart (zeros between), pad it by ``dilation * (kernel - 1) - padding`` (a
negative amount crops), add ``output_padding`` at the bottom and right, and convolve
with the kernel flipped and its in/out channels swapped. Both are compositions of
differentiable ops, so their gradients (and gradients of gradients) come with them;
the spread input costs ``stride**2`` times the multiplies of a direct kernel, a price
paid for one source of truth with ``conv2d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.ops import shape as S
from deepgrad.ops.conv import conv2d, pair
from deepgrad.ops.creation import zeros
from deepgrad.ops.indexing import flip
from deepgrad.tensor import Tensor

__all__ = ["conv1d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


def _single(op: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return pair(op, name, int(value), minimum)[0]


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch's ``F.conv1d``: input (N, C, L) or unbatched (C, L), weight (O, C/groups, k)."""
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: weight must be 3-D (out_channels, in_channels/groups, "
                           f"kernel), got shape {tuple(weight.shape)}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"conv1d: expected 3-D input (N, C, L) or 2-D unbatched (C, L), got "
                           f"input of shape {tuple(input.shape)}")
    pad = padding if isinstance(padding, str) else (0, _single("conv1d", "padding", padding, 0))
    out = conv2d(S.unsqueeze(input, -2), S.unsqueeze(weight, -2), bias,
                 (1, _single("conv1d", "stride", stride)), pad,
                 (1, _single("conv1d", "dilation", dilation)), groups)
    return S.squeeze(out, -2)


def _spread(x: Tensor, axis: int, stride: int) -> Tensor:
    """``stride - 1`` zeros between neighbours along ``axis`` (none after the last)."""
    if stride == 1 or x.shape[axis] == 0:
        return x
    n = x.shape[axis]
    gap = zeros(*x.shape, dtype=x.dtype)
    interleaved = S.stack([x] + [gap] * (stride - 1), axis + 1)    # (..., n, stride, ...)
    shape = tuple(x.shape[:axis]) + (n * stride,) + tuple(x.shape[axis + 1:])
    keep = [slice(None)] * x.ndim
    keep[axis] = slice(0, (n - 1) * stride + 1)
    return S.getitem(S.reshape(interleaved, shape), tuple(keep))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """torch's ``F.conv_transpose2d``: input (N, C_in, H, W) or (C_in, H, W), weight
    (C_in, C_out/groups, kh, kw); output ``(H-1)*stride - 2*padding + dilation*(kh-1) +
    output_padding + 1`` high (and the same rule for the width)."""
    if weight.ndim != 4:
        raise RuntimeError(f"conv_transpose2d: weight must be 4-D (in_channels, "
                           f"out_channels/groups, kh, kw), got shape {tuple(weight.shape)}")
    unbatched = input.ndim == 3
    if input.ndim not in (3, 4):
        raise RuntimeError(f"conv_transpose2d: expected 4-D input (N, C, H, W) or 3-D "
                           f"unbatched (C, H, W), got input of shape {tuple(input.shape)}")
    x = S.unsqueeze(input, 0) if unbatched else input
    c_in, c_out_g, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise RuntimeError(f"conv_transpose2d: expected input with {c_in} channels (weight "
                           f"shape {tuple(weight.shape)}), got input of shape "
                           f"{tuple(input.shape)}")
    if groups < 1 or c_in % groups:
        raise ValueError(f"conv_transpose2d: in_channels ({c_in}) must be divisible by groups "
                         f"({groups})")
    strides = pair("conv_transpose2d", "stride", stride)
    pads = pair("conv_transpose2d", "padding", padding, 0)
    extra = pair("conv_transpose2d", "output_padding", output_padding, 0)
    dil = pair("conv_transpose2d", "dilation", dilation)
    for o, s, d in zip(extra, strides, dil, strict=True):
        if o >= max(s, d):
            raise ValueError(f"conv_transpose2d: output padding must be smaller than either "
                             f"stride or dilation, got output_padding={extra}, stride="
                             f"{strides}, dilation={dil}")
    x = _spread(_spread(x, 2, strides[0]), 3, strides[1])
    (eh, ew) = (dil[0] * (kh - 1) - pads[0], dil[1] * (kw - 1) - pads[1])
    x = S.pad(x, (ew, ew + extra[1], eh, eh + extra[0]))  # negative amounts crop
    # (C_in, C_out/g, kh, kw) -> (C_out, C_in/g, kh, kw), flipped: the adjoint's kernel
    w = S.reshape(weight, (groups, c_in // groups, c_out_g, kh, kw))
    w = S.reshape(S.transpose(w, 1, 2), (groups * c_out_g, c_in // groups, kh, kw))
    out = conv2d(x, flip(w, (2, 3)), bias, 1, 0, dil, groups)
    return S.squeeze(out, 0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """torch's ``F.conv_transpose1d``: input (N, C_in, L) or (C_in, L), weight
    (C_in, C_out/groups, k)."""
    if weight.ndim != 3:
        raise RuntimeError(f"conv_transpose1d: weight must be 3-D (in_channels, "
                           f"out_channels/groups, kernel), got shape {tuple(weight.shape)}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"conv_transpose1d: expected 3-D input (N, C, L) or 2-D unbatched "
                           f"(C, L), got input of shape {tuple(input.shape)}")
    op = "conv_transpose1d"
    out = conv_transpose2d(S.unsqueeze(input, -2), S.unsqueeze(weight, -2), bias,
                           (1, _single(op, "stride", stride)),
                           (0, _single(op, "padding", padding, 0)),
                           (0, _single(op, "output_padding", output_padding, 0)), groups,
                           (1, _single(op, "dilation", dilation)))
    return S.squeeze(out, -2)


def _one_hot_kernel(channels: int, kernel: tuple[int, int], dtype: Any) -> Tensor:
    """(C*kh*kw, C, kh, kw): output channel ``c*kh*kw + i*kw + j`` reads input channel
    ``c`` at kernel offset ``(i, j)`` -- a convolution with it is im2col."""
    kh, kw = kernel
    size = channels * kh * kw
    return Tensor(np.eye(size, dtype=dtype).reshape(size, channels, kh, kw), _copy=False)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """torch's ``F.unfold`` (im2col): (N, C, H, W) -> (N, C*kh*kw, L), each column one
    sliding block, channel-major as torch orders it; a convolution with one-hot kernels."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                           f"shape {tuple(input.shape)}")
    x = S.unsqueeze(input, 0) if input.ndim == 3 else input
    kernel = pair("unfold", "kernel_size", kernel_size)
    cols = conv2d(x, _one_hot_kernel(x.shape[1], kernel, x.dtype), None, stride, padding,
                  dilation)
    out = S.reshape(cols, (cols.shape[0], cols.shape[1], -1))
    return S.squeeze(out, 0) if input.ndim == 3 else out


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """torch's ``F.fold`` (col2im), the adjoint of ``unfold``: (N, C*kh*kw, L) blocks summed
    back into (N, C, H, W); a transposed convolution with the same one-hot kernels."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected 2-D (C*kh*kw, L) or 3-D (N, C*kh*kw, L) input, "
                           f"got shape {tuple(input.shape)}")
    x = S.unsqueeze(input, 0) if input.ndim == 2 else input
    kh, kw = pair("fold", "kernel_size", kernel_size)
    (oh, ow), (dh, dw) = pair("fold", "output_size", output_size), pair("fold", "dilation",
                                                                          dilation)
    (ph, pw), (sh, sw) = pair("fold", "padding", padding, 0), pair("fold", "stride", stride)
    if x.shape[1] % (kh * kw):
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({kh}, {kw})")
    blocks_h = (oh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    blocks_w = (ow + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if blocks_h * blocks_w != x.shape[2]:
        raise RuntimeError(f"fold: expected input's dimension 2 to match the calculated number "
                           f"of sliding blocks {blocks_h} * {blocks_w} = {blocks_h * blocks_w}, "
                           f"but got input.size(2)={x.shape[2]}")
    channels = x.shape[1] // (kh * kw)
    grid = S.reshape(x, (x.shape[0], x.shape[1], blocks_h, blocks_w))
    # in padded coordinates: the blocks reach rows 0 .. reach-1 of the (out + 2 pad) image;
    # the rest of it gets nothing (zeros), then the padding is cut off both sides
    reach_h = (blocks_h - 1) * sh + dh * (kh - 1) + 1
    reach_w = (blocks_w - 1) * sw + dw * (kw - 1) + 1
    out = conv_transpose2d(grid, _one_hot_kernel(channels, (kh, kw), x.dtype), None, (sh, sw),
                           0, 0, 1, (dh, dw))
    out = S.pad(out, (-pw, ow + pw - reach_w, -ph, oh + ph - reach_h))
    return S.squeeze(out, 0) if input.ndim == 2 else out
