"""Shared look and small helpers for the figure functions.

Figures are built with ``matplotlib.figure.Figure`` directly, never through
``pyplot``: nothing global is registered (no figure to close, safe in threads
and tests), and a notebook still shows the returned Figure inline.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.figure import Figure

STYLE: dict[str, Any] = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "image.interpolation": "nearest",
    "figure.facecolor": "white",
}

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
WRONG = "#c62828"
RIGHT = "#2e7d32"

F = TypeVar("F", bound=Callable[..., Any])


def styled(fn: F) -> F:
    """Run a figure function under the shared rc style (fonts, grid, spines)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def grid_figure(rows: int, cols: int, cell: tuple[float, float], *,
                pad: tuple[float, float, float, float] = (0.75, 0.1, 0.45, 0.3),
                title: bool = True, right: float = 0.0) -> tuple[Figure, np.ndarray]:
    """A figure of ``rows x cols`` axes with fixed margins in inches: (left, right, bottom, top)
    around every cell, room for a suptitle and a ``right`` strip (colorbar).

    Constrained layout measures every tick label of every axes twice per save;
    for grids of small panels that is most of the drawing time, and fixed
    margins look the same.
    """
    left, rgt, bottom, top = pad
    head = 0.4 if title else 0.0
    width = cols * cell[0] + right
    height = rows * cell[1] + head
    fig = Figure(figsize=(width, height))
    axes_w = cell[0] - left - rgt
    axes_h = cell[1] - bottom - top
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw={
        "left": left / width, "right": 1 - (rgt + right) / width,
        "bottom": bottom / height, "top": 1 - (top + head) / height,
        "wspace": (left + rgt) / axes_w, "hspace": (bottom + top) / axes_h})
    return fig, axes


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    return (n + cols - 1) // cols, cols


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes on white (figures use constrained layout: no trimming pass)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def save_png(fig: Figure, path: str | Path, dpi: int = 200) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_png(fig, dpi=dpi))
    return path


def as_numpy(array: Any) -> np.ndarray:
    """ndarray from an ndarray, list or Tensor (``.numpy()``), without copying ndarrays."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "numpy"):
        return np.asarray(array.numpy())
    return np.asarray(array)


def class_labels(class_names: Sequence[Any] | np.ndarray | None, n: int) -> list[str]:
    if class_names is None or len(class_names) == 0:
        return [str(k) for k in range(n)]
    names = [str(c) for c in list(class_names)]
    if len(names) < n:
        names += [str(k) for k in range(len(names), n)]
    return names[:n]


def show_image(ax: Any, image: np.ndarray, **kwargs: Any) -> Any:
    """Draw one image (H, W), (H, W, 1|3) or (1|3, H, W) without axes ticks."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.moveaxis(image, 0, -1)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3:
        if image.dtype != np.uint8:
            lo, hi = float(image.min()), float(image.max())
            image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
        artist = ax.imshow(image, **kwargs)
    else:
        kwargs.setdefault("cmap", "gray")
        artist = ax.imshow(image, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return artist


def get(data: Mapping[str, Any] | Any, key: str, default: Any = None) -> Any:
    """``data[key]`` for dicts and NpzFiles, ``default`` when missing."""
    try:
        return data[key]
    except (KeyError, IndexError, TypeError):
        return default
