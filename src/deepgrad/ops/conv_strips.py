"""A few-channel layer as one GEMM over strips of ``q`` output pixels and a banded weight.

A layer with few input and output channels (the tutorial CNN's and LeNet-5's 3 or
1 -> 6 and 6 -> 16, 5x5) has a GEMM too thin to use the CPU; the first one,
``(6, 75) @ (75, N*Ho*Wo)``, streams a patch matrix 19 times the input's size from
memory for 45 MFLOP. Here each GEMM row is a *strip* of ``q`` neighbouring output pixels
of one image row, and its columns are the ``kh x (q + kw - 1) x C`` input values the
strip reads (NHWC, so each of the ``kh`` runs is ``(q + kw - 1) * C`` contiguous
floats). The weight becomes a banded matrix ``(kh*(q+kw-1)*C, q*O)``: column ``(xi, o)``
holds filter ``o`` shifted by ``xi`` pixels.

The strip GEMM does ``(q + kw - 1) / kw`` times the multiplies of im2col (1.6x for
q = 4, kw = 5), which a memory-bound GEMM takes for free, and gathers 2.5x fewer patch
values in 3x longer runs: the tutorial CNN's first layer forward 1.80 -> 1.26 ms. Its
output is NHWC memory, the layout pooling and the next layer walk fastest (the im2col
narrow layer's is CNHW). The weight gradient is the same GEMM transposed, folded back
from the band (``fold``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

WIDTHS = (4, 5, 3, 6, 7, 2)
"""Strip widths tried in order; the first that divides the output width is used. 4 was
fastest on the tutorial CNN's first layer (1.26 ms against 1.68 for q = 2, 1.35 for 7 and
1.56 for 14): the band's extra multiplies grow with q, the gathered values shrink."""


MAX_IN_CHANNELS = 8
MAX_OUT_CHANNELS = 16
"""Strips pay where the GEMM is thin: the tutorial CNN's and LeNet-5's 3 -> 6 and
6 -> 16 layers (forward 1.80 -> 1.26 and 0.59 -> 0.48 ms, weight gradient the same and
0.44 -> 0.41). With many outputs the GEMM is compute-bound and the band's extra
multiplies cost: the MNIST CNN's 1 -> 32 forward 1.26 -> 1.43 ms, the CIFAR CNN's
3 -> 64 3.21 -> 3.79."""


def suits(stride: tuple[int, int], dilation: tuple[int, int], groups: int, channels: int,
          out_channels: int, out_w: int) -> bool:
    """Whether a layer takes the strip path: stride 1, no dilation or groups, few channels
    in and out, and a strip width that divides the output row."""
    return (stride == (1, 1) and dilation == (1, 1) and groups == 1
            and channels <= MAX_IN_CHANNELS and out_channels <= MAX_OUT_CHANNELS
            and width(out_w) > 0)


def width(out_w: int) -> int:
    """The strip width for an output row of ``out_w`` pixels, or 0 when none divides it."""
    return next((q for q in WIDTHS if out_w % q == 0), 0)


def patches(xp: Any, kernel: tuple[int, int], out_hw: tuple[int, int], q: int) -> Any:
    """The ``(N*Ho*Wo/q, kh*(q+kw-1)*C)`` strip matrix of a padded NHWC input (a copy)."""
    n, _, _, c = xp.shape
    (kh, kw), (ho, wo) = kernel, out_hw
    s_n, s_h, s_w, s_c = xp.strides
    view = as_strided(xp, (n, ho, wo // q, kh, q + kw - 1, c),
                      (s_n, s_h, q * s_w, s_h, s_w, s_c), writeable=False)
    return view.reshape(n * ho * (wo // q), kh * (q + kw - 1) * c)


def banded(weight: Any, q: int) -> Any:
    """Weight ``(O, C, kh, kw)`` as the ``(kh*(q+kw-1)*C, q*O)`` band the strips multiply:
    entry ``[(i, xi + j, c), (xi, o)] = weight[o, c, i, j]``."""
    o, c, kh, kw = weight.shape
    band = np.zeros((kh, q + kw - 1, c, q, o), dtype=weight.dtype)
    taps = weight.transpose(2, 3, 1, 0)                     # (kh, kw, C, O)
    for xi in range(q):
        band[:, xi:xi + kw, :, xi, :] = taps
    return band.reshape(kh * (q + kw - 1) * c, q * o)


def fold(band_grad: Any, weight_shape: tuple[int, int, int, int], q: int) -> Any:
    """The weight gradient from the band's ``(q*O, kh*(q+kw-1)*C)`` gradient: each filter
    tap appears once per strip position ``xi``, so its gradient is the sum over them."""
    o, c, kh, kw = weight_shape
    g = band_grad.reshape(q, o, kh, q + kw - 1, c)
    acc = g[0, :, :, 0:kw, :].copy()
    for xi in range(1, q):
        acc += g[xi, :, :, xi:xi + kw, :]
    return acc.transpose(0, 3, 1, 2)                        # (O, C, kh, kw)
