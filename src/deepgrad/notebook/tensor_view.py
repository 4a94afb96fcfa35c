"""The notebook view of a Tensor: shape, dtype, device, grad state, statistics, NaN/Inf
counts, and a picture: the image itself when the tensor is image-shaped, else a histogram.

Statistics are over the finite entries, so one NaN does not hide the rest; the counts of
NaN and ±Inf are shown beside them, in red when not zero. Tensors of up to ``SMALL``
entries also show their values (the plain ``repr``), escaped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .charts import histogram, png_data_uri
from .html import esc, frame, num, table

SMALL = 64  # entries up to which the values themselves are shown
MAX_IMAGES = 8  # images shown from a batch (N, C, H, W)
MAX_SIDE = 256  # pixels: larger arrays are summarised by a histogram
_BAD = 'style="color:#c00;font-weight:600"'


def image_planes(shape: tuple[int, ...]) -> str | None:
    """How ``shape`` reads as images: "hw", "chw" (C 1 or 3), "nchw", or None.

    Both sides must be 4..256 pixels (8..256 for a plain matrix) and neither more than 8
    times the other: a (3, 5) matrix, a (4, 28, 28) stack of four channels, a thin
    (1, 2, 512) or a (1000, 1000) matrix get a histogram instead (the PNG of a
    million random values would weigh a megabyte)."""
    def sides(h: int, w: int) -> bool:
        return 4 <= h <= MAX_SIDE and 4 <= w <= MAX_SIDE and max(h, w) <= 8 * min(h, w)

    if len(shape) == 2 and sides(*shape) and shape[0] >= 8 and shape[1] >= 8:
        return "hw"
    if len(shape) == 3 and shape[0] in (1, 3) and sides(shape[1], shape[2]):
        return "chw"
    if len(shape) == 4 and shape[1] in (1, 3) and shape[0] >= 1 and sides(shape[2], shape[3]):
        return "nchw"
    return None


def _images(array: np.ndarray, layout: str) -> list[np.ndarray]:
    if layout == "hw":
        return [array]
    batch = array[None] if layout == "chw" else array[:MAX_IMAGES]
    return [img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1) for img in batch]


def _preview(array: np.ndarray) -> str:
    layout = image_planes(array.shape) if array.dtype.kind in "biuf" else None
    if layout is not None:
        images = _images(array.astype(np.float64), layout)
        side = max(images[0].shape[:2])
        zoom = 96 / side if side < 96 else 1.0  # small digits drawn at 96 px, big ones as-is
        h, w = round(images[0].shape[0] * zoom), round(images[0].shape[1] * zoom)
        tags = "".join(f'<img class="deepgrad-image" src="{png_data_uri(img)}" width="{w}" '
                       f'height="{h}" style="image-rendering:pixelated;margin:2px;'
                       f'border:1px solid #ddd" alt="image {i}">'
                       for i, img in enumerate(images))
        more = (f"<div>first {MAX_IMAGES} of {array.shape[0]} images</div>"
                if layout == "nchw" and array.shape[0] > MAX_IMAGES else "")
        return f"<div>{tags}</div>{more}"
    if array.size > 1 and array.dtype.kind in "biuf":
        return histogram(array.reshape(-1))
    return ""


def tensor_html(t: Any) -> str:
    """The HTML view of a deepgrad Tensor (``Tensor._repr_html_``)."""
    from deepgrad import backend

    array = backend.to_numpy(t._array if hasattr(t, "_array") else t.data)
    shape = tuple(int(s) for s in array.shape)
    facts = [f"shape {esc(list(shape))}", f"dtype {esc(array.dtype)}",
             f"device {esc(getattr(t, 'device', 'cpu'))}"]
    if getattr(t, "grad_fn", None) is not None:
        facts.append(f"grad_fn {esc(type(t.grad_fn).__name__)}")
    elif getattr(t, "requires_grad", False):
        facts.append("requires_grad")
    if getattr(t, "grad", None) is not None:
        facts.append("has .grad")
    rows = []
    if array.size and array.dtype.kind in "biufc":
        values = array.real if array.dtype.kind == "c" else array
        finite_mask = np.isfinite(values)
        finite = values[finite_mask].astype(np.float64, copy=False)
        nan = int(np.isnan(values).sum())
        inf = int(values.size - finite.size - nan)
        stats = [num(float(finite.min())), num(float(finite.max())), num(float(finite.mean())),
                 num(float(finite.std()))] if finite.size else ["–"] * 4
        nan_cell = f"<span {_BAD}>{nan:,}</span>" if nan else "0"
        inf_cell = f"<span {_BAD}>{inf:,}</span>" if inf else "0"
        rows.append([*stats, nan_cell, inf_cell])
    stat_table = table(["min", "max", "mean", "std", "NaN", "Inf"], rows) if rows else ""
    values_block = ""
    if array.size <= SMALL:
        values_block = (f'<pre style="margin:3px 0;font-size:11px">{esc(repr(t))}</pre>')
    body = (f"<div>{' · '.join(facts)} · {array.size:,} elements</div>{stat_table}"
            f"{_preview(array)}{values_block}")
    return frame("tensor", "Tensor", body)
