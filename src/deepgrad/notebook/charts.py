"""Tiny inline pictures for the notebook views: SVG line charts and histograms, and a
grayscale/RGB PNG written with the standard library (no matplotlib, no Pillow), so a
view costs a few kilobytes and a few milliseconds.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from .html import esc, num

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _finite(values: Sequence[object]) -> list[tuple[int, float]]:
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append((i, float(v)))
    return out


def line_chart(series: Mapping[str, Sequence[object]], title: str = "", width: int = 260,
               height: int = 130, max_points: int = 200) -> str:
    """An SVG chart of one or more curves over epochs (x = 1..n), legend included.

    Non-finite points are left out; long series are thinned to ``max_points`` so the
    SVG stays small."""
    pad_l, pad_r, pad_t, pad_b = 40, 6, 16 if title else 6, 16
    points = {name: _finite(values) for name, values in series.items()}
    every = [p for pts in points.values() for p in pts]
    parts = [f'<svg class="deepgrad-chart" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{height + 14 * len(points)}" '
             f'viewBox="0 0 {width} {height + 14 * len(points)}" role="img">']
    if title:
        parts.append(f'<text x="{pad_l}" y="11" font-size="11" font-weight="600">'
                     f"{esc(title)}</text>")
    if every:
        n = max(len(v) for v in series.values())
        lo = min(y for _, y in every)
        hi = max(y for _, y in every)
        if hi == lo:
            hi, lo = hi + 0.5 * (abs(hi) or 1.0), lo - 0.5 * (abs(lo) or 1.0)
        w, h = width - pad_l - pad_r, height - pad_t - pad_b

        def xy(i: int, y: float) -> str:
            x = pad_l + (w * i / (n - 1) if n > 1 else w / 2)
            return f"{x:.1f},{pad_t + h * (hi - y) / (hi - lo):.1f}"

        parts.append(f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="none" '
                     'stroke="#ccc"/>')
        for y, anchor in ((hi, pad_t + 4), (lo, pad_t + h)):
            parts.append(f'<text x="{pad_l - 3}" y="{anchor:.0f}" font-size="9" '
                         f'text-anchor="end">{num(y, 3)}</text>')
        parts.append(f'<text x="{pad_l}" y="{height - 3}" font-size="9">1</text>'
                     f'<text x="{pad_l + w}" y="{height - 3}" font-size="9" '
                     f'text-anchor="end">{n} epochs</text>')
        for k, pts in enumerate(points.values()):
            color = COLORS[k % len(COLORS)]
            stride = max(1, math.ceil(len(pts) / max_points))
            kept = pts[::stride] + ([pts[-1]] if pts and (len(pts) - 1) % stride else [])
            if len(kept) == 1:
                cx, cy = xy(*kept[0]).split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            elif kept:
                path = " ".join(xy(i, y) for i, y in kept)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                             'stroke-width="1.5"/>')
    else:
        parts.append(f'<text x="{pad_l}" y="{height / 2:.0f}" font-size="10">'
                     "no finite values yet</text>")
    for k, name in enumerate(points):
        y = height + 14 * k + 10
        parts.append(f'<rect x="{pad_l}" y="{y - 7}" width="10" height="3" '
                     f'fill="{COLORS[k % len(COLORS)]}"/>'
                     f'<text x="{pad_l + 14}" y="{y}" font-size="10">{esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: np.ndarray, bins: int = 24, width: int = 160, height: int = 44) -> str:
    """An SVG histogram of the finite entries of ``values`` (bars only, min and max below)."""
    finite = values[np.isfinite(values)].astype(np.float64, copy=False)
    if finite.size == 0:
        return ""
    counts, edges = np.histogram(finite, bins=bins)
    top = max(int(counts.max()), 1)
    bar = width / bins
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - height * c / top:.1f}" width="{bar - 0.5:.1f}" '
        f'height="{height * c / top:.1f}" fill="#4a78b5"/>'
        for i, c in enumerate(counts) if c)
    return (f'<svg class="deepgrad-hist" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height + 12}" viewBox="0 0 {width} {height + 12}" role="img">{rects}'
            f'<text x="0" y="{height + 10}" font-size="9">{num(edges[0], 3)}</text>'
            f'<text x="{width}" y="{height + 10}" font-size="9" text-anchor="end">'
            f"{num(edges[-1], 3)}</text></svg>")


def png_data_uri(image: np.ndarray) -> str:
    """A ``data:image/png`` URI of an (H, W) grayscale or (H, W, 3) RGB array, scaled from
    its own min..max to 0..255 (an 8-bit PNG, zlib from the standard library)."""
    arr = np.nan_to_num(np.asarray(image, dtype=np.float64))
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"png_data_uri: expected an (H, W) or (H, W, 3) array, "
                         f"got shape {tuple(arr.shape)}")
    lo, hi = float(arr.min()), float(arr.max())
    scaled = np.zeros(arr.shape, np.uint8) if hi == lo else \
        np.round(255 * (arr - lo) / (hi - lo)).astype(np.uint8)
    h, w = scaled.shape[:2]
    color = 2 if scaled.ndim == 3 else 0
    rows = scaled.reshape(h, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
