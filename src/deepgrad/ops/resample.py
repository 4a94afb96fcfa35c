"""Changing the resolution of images and sequences: ``interpolate`` (nearest, linear,
bilinear), ``pixel_shuffle`` / ``pixel_unshuffle`` and the 1-D poolings.

Interpolation is separable: along each spatial dimension the output reads one or two
input positions (``index_select``) and blends them with fixed weights, with torch's
coordinate rules (half-pixel centres, or ``align_corners``). Everything is a
composition of differentiable ops, so gradients need nothing new.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad.ops import pool as P
from deepgrad.ops import shape as S
from deepgrad.ops.indexing import index_select
from deepgrad.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d", "max_unpool1d", "max_unpool2d"]

MODES = ("nearest", "nearest-exact", "linear", "bilinear")


def _output_sizes(op: str, spatial: tuple[int, ...], size: Any,
                  scale_factor: Any) -> tuple[list[int], list[float | None]]:
    """Output sizes and, when ``scale_factor`` sets them, the scales torch uses for the
    coordinates (``1 / scale_factor``, not ``in / out``)."""
    n = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * n
        if len(sizes) != n:
            raise ValueError(f"{op}: size must have {n} elements for {n} spatial dimensions, "
                             f"got {size!r}")
        return [int(s) for s in sizes], [None] * n
    factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
        [scale_factor] * n
    if len(factors) != n:
        raise ValueError(f"{op}: scale_factor must have {n} elements for {n} spatial "
                         f"dimensions, got {scale_factor!r}")
    return ([math.floor(d * float(f)) for d, f in zip(spatial, factors, strict=True)],
            [1.0 / float(f) for f in factors])


def _nearest(x: Tensor, axis: int, out: int, scale: float | None, exact: bool) -> Tensor:
    size = x.shape[axis]
    ratio = size / out if scale is None else scale
    dst = np.arange(out, dtype=np.float64)
    src = np.floor((dst + 0.5) * ratio) if exact else np.floor(dst * np.float32(ratio))
    return index_select(x, axis, np.minimum(src.astype(np.int64), size - 1))


def _linear(x: Tensor, axis: int, out: int, scale: float | None,
            align_corners: bool) -> Tensor:
    size = x.shape[axis]
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        src = dst * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        ratio = size / out if scale is None else scale
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = (src - low).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = out
    weight = Tensor(frac.reshape(shape), _copy=False)
    a, b = index_select(x, axis, low), index_select(x, axis, high)
    return a + (b - a) * weight


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """torch's ``F.interpolate`` for (N, C, L) and (N, C, H, W) input: ``nearest``,
    ``nearest-exact``, ``linear`` (3-D) and ``bilinear`` (4-D)."""
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; choose one of "
                                  f"{', '.join(MODES)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if input.ndim not in (3, 4):
        raise ValueError(f"interpolate: expected 3-D (N, C, L) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(input.shape)}")
    wanted = {"linear": 3, "bilinear": 4}.get(mode)
    if wanted is not None and input.ndim != wanted:
        raise NotImplementedError(f"interpolate: mode {mode!r} needs {wanted}-D input, got "
                                  f"{input.ndim}-D input of shape {tuple(input.shape)}")
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = tuple(input.shape[2:])
    sizes, scales = _output_sizes("interpolate", spatial, size, scale_factor)
    if recompute_scale_factor:
        scales = [None] * len(scales)
    out = input
    for i, (n, scale) in enumerate(zip(sizes, scales, strict=True)):
        axis = 2 + i
        if mode.startswith("nearest"):
            out = _nearest(out, axis, n, scale, exact=mode == "nearest-exact")
        else:
            out = _linear(out, axis, n, scale, bool(align_corners))
    return out


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): sub-pixel convolution's rearrangement."""
    r = int(upscale_factor)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3] if input.ndim >= 3 else None} is not divisible "
                           f"by {r * r}")
    *lead, c, h, w = input.shape
    x = S.reshape(input, (*lead, c // (r * r), r, r, h, w))
    k = len(lead)
    x = S.permute(x, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return S.reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor ({r}), got input of shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    x = S.reshape(input, (*lead, c, h // r, r, w // r, r))
    k = len(lead)
    x = S.permute(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return S.reshape(x, (*lead, c * r * r, h // r, w // r))


# ----------------------------------------------------------------------------- 1-D pooling


def _as_2d(op: str, input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(input.shape)}")
    return S.unsqueeze(input, -2)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, (tuple, list)) else value


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    x = _as_2d("max_pool1d", input)
    stride = kernel_size if stride is None or stride == [] else stride
    out = P.max_pool2d(x, (1, _first(kernel_size)), (1, _first(stride)), (0, _first(padding)),
                       (1, _first(dilation)), ceil_mode, return_indices)
    if return_indices:
        return S.squeeze(out[0], -2), S.squeeze(out[1], -2)
    return S.squeeze(out, -2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    x = _as_2d("avg_pool1d", input)
    stride = kernel_size if stride is None or stride == [] else stride
    out = P.avg_pool2d(x, (1, _first(kernel_size)), (1, _first(stride)), (0, _first(padding)),
                       ceil_mode, count_include_pad)
    return S.squeeze(out, -2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    return S.squeeze(P.adaptive_avg_pool2d(_as_2d("adaptive_avg_pool1d", input),
                                           (1, _first(output_size))), -2)


def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    out = P.adaptive_max_pool2d(_as_2d("adaptive_max_pool1d", input), (1, _first(output_size)),
                                return_indices)
    if return_indices:
        return S.squeeze(out[0], -2), S.squeeze(out[1], -2)
    return S.squeeze(out, -2)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool2d(..., return_indices=True)``: each value written back at
    its index in a zero (H_out, W_out) plane (SegNet's decoder)."""
    from deepgrad.ops.conv import pair
    from deepgrad.ops.creation import zeros
    from deepgrad.ops.indexing import scatter

    unbatched = input.ndim == 3
    x = S.unsqueeze(input, 0) if unbatched else input
    idx = S.unsqueeze(indices, 0) if unbatched else indices
    kh, kw = pair("max_unpool2d", "kernel_size", kernel_size)
    sh, sw = pair("max_unpool2d", "stride", kernel_size if stride is None else stride)
    ph, pw = pair("max_unpool2d", "padding", padding, 0)
    n, c, h, w = x.shape
    if output_size is None:
        oh, ow = (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
    else:
        oh, ow = (int(s) for s in list(output_size)[-2:])
    flat_idx = idx._array.reshape(n, c, h * w)
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= oh * ow):
        raise RuntimeError(f"max_unpool2d: found an invalid max index {int(flat_idx.max())} "
                           f"(output volumes are of size {oh}x{ow})")
    plane = zeros(n, c, oh * ow, dtype=x.dtype)
    out = S.reshape(scatter(plane, 2, flat_idx, S.reshape(x, (n, c, h * w))), (n, c, oh, ow))
    return S.squeeze(out, 0) if unbatched else out


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    out = max_unpool2d(S.unsqueeze(input, -2), S.unsqueeze(indices, -2), (1, _first(kernel_size)),
                       (1, _first(kernel_size if stride is None else stride)),
                       (0, _first(padding)),
                       None if output_size is None else (1, list(output_size)[-1]))
    return S.squeeze(out, -2)
