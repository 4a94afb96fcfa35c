"""Winograd convolution F(4x4, r x r) for stride-1 3x3 and 5x5 layers, forward and backward.

Each ``m x m`` output tile is computed from an ``a x a`` input tile (``a = m + r - 1``) as
``Y = A^T [(G g G^T) * (B^T d B)] A``: the transformed input ``V`` and the transformed
weight ``U`` meet in ``a*a`` GEMMs of ``(tiles, C) @ (C, O)`` instead of one im2col GEMM
with ``K = C*r*r``. F(4x4, 5x5) and F(4x4, 3x3) multiply 6.25x and 4x less than im2col
(F(2x2, 5x5) would be 2.8x: its 6x6 tiles are 9 times the output, so its transforms
stream 9x the output's memory; measured 46 against 29 ms for the MNIST CNN's layer).

Both transforms of a tile are one matrix, ``kron(B^T, B^T)`` (a*a, a*a) applied to all
tiles at once (one GEMM, one pass over memory), and likewise ``kron(A^T, A^T)`` and
``kron(G, G)``: NumPy has no fast small-matrix kernel, so the separable form's two
passes and transposes cost more than the extra multiplies.

Backward is the chain rule through the same linear maps: the output gradient is
transformed by ``kron(A^T, A^T)^T``; ``dU = V^T dM`` gives the weight gradient through
``kron(G, G)^T``; ``dV = dM U^T`` goes back through ``kron(B^T, B^T)^T`` and the
overlapping input tiles are added back with one strided add per tile position.

The matrices come from Toom-Cook interpolation at 0, 1, -1, 2, -2, 1/2, -1/2 (and infinity),
as many as the tile needs; float32 results differ from direct convolution by about 1e-5
of the output's range (im2col: 7e-7), so the parity tests state their forward tolerance
relative to the size of the sums (tests/core/test_conv.py).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

ENABLED = os.environ.get("DEEPGRAD_WINOGRAD", "1") != "0"
"""``DEEPGRAD_WINOGRAD=0`` keeps every convolution on im2col (ten times closer to a direct
sum in float32, slower)."""
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)
TILE = {3: 4, 5: 4}
"""Output tile per kernel size: F(4x4, 3x3) with 6x6 input tiles, F(4x4, 5x5) with 8x8
(measured fastest of m = 2, 4, 6 and m = 2, 3, 4 on the course's layers)."""
MIN_CHANNELS = 16
"""Narrower layers stay on im2col. First layers (1-3 channels) lose badly (MNIST's
1 -> 32: 25.8 against 3.7 ms); the tutorial CNN's 6 -> 16 layer is faster alone (3.8
against 4.7 ms) but not inside the model (ab.py 1.00 beside an im2col first layer whose
output is channels-first, 0.97 beside the NHWC strips of ``ops/conv_strips.py``)."""


def transforms_1d(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A^T, G, B^T)`` of F(m, r) in float64: ``A^T [(G g) * (B^T d)]`` is the
    correlation of ``d`` (length m + r - 1) with ``g`` (length r)."""
    a = m + r - 1
    pts = np.array(POINTS[: a - 1])
    n = len(pts)
    if n != a - 1:
        raise ValueError(f"winograd: F({m}, {r}) needs {a - 1} interpolation points")
    at = np.zeros((m, a))
    at[:, :n] = pts[None, :] ** np.arange(m)[:, None]
    at[m - 1, n] = 1.0
    norm = np.array([np.prod([p - q for q in np.delete(pts, j)]) for j, p in enumerate(pts)])
    g = np.zeros((a, r))
    g[:n] = pts[:, None] ** np.arange(r)[None, :] / norm[:, None]
    g[n, r - 1] = 1.0
    # B^T is what makes the identity hold: sum_t A^T[i,t] G[t,k] B^T[t,s] = [s == i + k],
    # a linear system with an exact solution for these A^T and G.
    system = np.zeros((m, r, a, a, a))
    for s in range(a):
        system[:, :, s, :, s] = at[:, None, :] * g.T[None, :, :]
    rhs = np.zeros((m, r, a))
    for i in range(m):
        for k in range(r):
            rhs[i, k, i + k] = 1.0
    bt_flat = np.linalg.lstsq(system.reshape(m * r * a, a * a), rhs.ravel(), rcond=None)[0]
    bt = bt_flat.reshape(a, a)  # rows t, columns s
    return at, g, bt


class Kron(NamedTuple):
    out: np.ndarray     # kron(A^T, A^T): (m*m, a*a)
    weight: np.ndarray  # kron(G, G): (a*a, r*r)
    inp: np.ndarray     # kron(B^T, B^T): (a*a, a*a)


@cache
def kron_transforms(m: int, r: int, dtype: str) -> Kron:
    at, g, bt = transforms_1d(m, r)
    return Kron(np.kron(at, at).astype(dtype), np.kron(g, g).astype(dtype),
                np.kron(bt, bt).astype(dtype))


def tile_size(kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
              groups: int, channels: int) -> int:
    """The output tile ``m`` Winograd uses for this layer, or 0 for im2col."""
    if (not ENABLED or kernel[0] != kernel[1] or kernel[0] not in TILE or stride != (1, 1)
            or dilation != (1, 1) or groups != 1 or channels < MIN_CHANNELS):
        return 0
    return TILE[kernel[0]]


class Tiling(NamedTuple):
    m: int
    tiles: tuple[int, int]   # tile rows and columns
    padded: tuple[int, int]  # the zero-padded input that the tiles cover exactly


def tiling(m: int, r: int, out_hw: tuple[int, int]) -> Tiling:
    th, tw = -(-out_hw[0] // m), -(-out_hw[1] // m)
    return Tiling(m, (th, tw), (th * m + r - 1, tw * m + r - 1))


def forward(x: Any, weight: Any, bias: Any, padding: tuple[int, int, int, int],
            out_hw: tuple[int, int], m: int) -> tuple[Any, Any, Any]:
    """``(out, V, U)``: an NCHW view of NHWC memory, and the transformed input and weight
    (``(a*a, tiles, C)``, ``(a*a, C, O)``) that backward needs."""
    n, c, h, w = x.shape
    o, _, r, _ = weight.shape
    k = kron_transforms(m, r, x.dtype.str)
    a = m + r - 1
    til = tiling(m, r, out_hw)
    (th, tw), (hp, wp) = til.tiles, til.padded
    top, _, left, _ = padding
    # The tiles cover at least the padded input (th*m + r - 1 >= top + h + bottom): the
    # rows and columns beyond it are zeros whose outputs are cropped.
    xp = np.zeros((n, hp, wp, c), dtype=x.dtype)
    xp[:, top:top + h, left:left + w, :] = x.transpose(0, 2, 3, 1)
    s_n, s_h, s_w, s_c = xp.strides
    tiles = as_strided(xp, (a, a, n, th, tw, c), (s_h, s_w, s_n, m * s_h, m * s_w, s_c),
                       writeable=False).reshape(a * a, -1)            # one copy of the tiles
    count = n * th * tw
    v = (k.inp @ tiles).reshape(a * a, count, c)
    u = (k.weight @ weight.transpose(2, 3, 1, 0).reshape(r * r, c * o)).reshape(a * a, c, o)
    y = (k.out @ np.matmul(v, u).reshape(a * a, -1)).reshape(m, m, n, th, tw, o)
    out = np.empty((n, th, m, tw, m, o), dtype=x.dtype)
    out[...] = y.transpose(2, 3, 0, 4, 1, 5)
    nhwc = out.reshape(n, th * m, tw * m, o)[:, :out_hw[0], :out_hw[1]]
    if bias is not None:
        nhwc += bias
    return nhwc.transpose(0, 3, 1, 2), v, u


def backward(grad: Any, v: Any, u: Any, x_shape: tuple[int, int, int, int], r: int,
             padding: tuple[int, int, int, int], m: int,
             needs: tuple[bool, ...]) -> tuple[Any, Any]:
    """``(grad_input, grad_weight)``, each None where not needed (the bias gradient is
    the caller's: it does not go through the tiles)."""
    n, c, h, w = x_shape
    o, ho, wo = grad.shape[1], grad.shape[2], grad.shape[3]
    k = kron_transforms(m, r, grad.dtype.str)
    a = m + r - 1
    til = tiling(m, r, (ho, wo))
    (th, tw), (hp, wp) = til.tiles, til.padded
    count = n * th * tw
    gx = gw = None
    g_padded = np.zeros((n, th, m, tw, m, o), dtype=grad.dtype)
    g_padded.reshape(n, th * m, tw * m, o)[:, :ho, :wo] = grad.transpose(0, 2, 3, 1)
    g_tiles = g_padded.transpose(2, 4, 0, 1, 3, 5).reshape(m * m, -1)  # (m*m, tiles*O)
    d_m = (k.out.T @ g_tiles).reshape(a * a, count, o)
    del g_padded, g_tiles
    if needs[1]:
        d_u = np.matmul(v.transpose(0, 2, 1), d_m)                    # (a*a, C, O)
        gw = (k.weight.T @ d_u.reshape(a * a, -1)).reshape(r, r, c, o).transpose(3, 2, 0, 1)
    if needs[0]:
        d_v = np.matmul(d_m, u.transpose(0, 2, 1))                    # (a*a, tiles, C)
        d_tiles = (k.inp.T @ d_v.reshape(a * a, -1)).reshape(a, a, n, th, tw, c)
        del d_v
        gxp = np.zeros((n, hp, wp, c), dtype=grad.dtype)
        for i in range(a):
            for j in range(a):
                gxp[:, i:i + m * th:m, j:j + m * tw:m, :] += d_tiles[i, j]
        top, _, left, _ = padding
        gx = gxp[:, top:top + h, left:left + w, :].transpose(0, 3, 1, 2)
    return gx, gw
