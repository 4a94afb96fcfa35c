"""Conv feature maps for a few fixed test images, and the first layer's filters (report 001).

Input is the run's ``activations.npz``: ``inputs`` (8, C, H, W), one array per
layer output keyed by module path (``conv1`` -> (8, C', H', W')), and
``weights/<path>`` for the first conv layer's filters (O, I, kh, kw).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import as_numpy, grid_shape, new_figure, show_image, styled

__all__ = [
    "feature_map_layers",
    "feature_mosaic",
    "filter_keys",
    "plot_feature_maps",
    "plot_filters",
]


def feature_map_layers(activations: Mapping[str, Any]) -> list[str]:
    """Layer outputs that are images (4-D: batch, channels, height, width), in file order."""
    return [k for k in activations.keys()
            if k != "inputs" and not k.startswith("weights/")
            and np.asarray(activations[k]).ndim == 4]


def filter_keys(activations: Mapping[str, Any]) -> list[str]:
    return [k for k in activations.keys()
            if k.startswith("weights/") and np.asarray(activations[k]).ndim == 4]


def _strongest_channels(maps: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` channels whose maps vary most over the shown images: the informative ones,
    in channel order (dead or constant channels are blank pictures)."""
    spread = maps.reshape(maps.shape[0], maps.shape[1], -1).std(axis=2).mean(axis=0)
    chosen = np.argsort(-spread, kind="stable")[:n]
    return np.sort(chosen)


def _resize_nearest(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of (..., h, w) to (..., H, W) by index arrays (no loops)."""
    h, w = images.shape[-2:]
    rows = np.arange(size[0]) * h // size[0]
    cols = np.arange(size[1]) * w // size[1]
    return images[..., rows[:, None], cols[None, :]]


def _unit(images: np.ndarray) -> np.ndarray:
    """Each image (over its last two axes) stretched to [0, 1]; constant images become 0."""
    low = images.min(axis=(-2, -1), keepdims=True)
    high = images.max(axis=(-2, -1), keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    return (images - low) / span


def feature_mosaic(inputs: Any, maps: Any, channels: Sequence[int] | np.ndarray, *, gap: int = 2,
                   cmap: str = "viridis") -> tuple[np.ndarray, tuple[int, int]]:
    """One RGB image holding the grid: row i = input i (grey), then its maps (``cmap``).

    Returns ``(mosaic, (tile_h, tile_w))``; tile (i, j) starts at
    ``(i * (tile_h + gap), j * (tile_w + gap))``. Maps are resized (nearest) to the
    input's size and each stretched to its own range. One image instead of one
    axes per map draws many times faster.
    """
    x = np.asarray(as_numpy(inputs), dtype=np.float64)
    m = np.asarray(as_numpy(maps), dtype=np.float64)[:, list(channels)]
    n = min(len(x), len(m))
    x, m = x[:n], m[:n]
    if x.ndim == 4 and x.shape[1] == 3:  # RGB (N, 3, H, W): stretched per image, in colour
        low = x.min(axis=(1, 2, 3), keepdims=True)
        span = np.maximum(x.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
        rgb = (x - low) / span
    else:
        if x.ndim == 4:  # other channel counts: the mean over channels, in grey
            x = x.mean(axis=1)
        elif x.ndim != 3:  # flat inputs: square when they can be
            side = int(round(np.sqrt(x[0].size)))
            x = x.reshape(n, side, -1) if side * side == x[0].size else x.reshape(n, 1, -1)
        rgb = np.repeat(_unit(x)[:, None], 3, axis=1)
    tile_h, tile_w = max(rgb.shape[2], m.shape[2]), max(rgb.shape[3], m.shape[3])
    first = _resize_nearest(rgb, (tile_h, tile_w)).transpose(0, 2, 3, 1)
    coloured = mpl.colormaps[cmap](_resize_nearest(_unit(m), (tile_h, tile_w)))[..., :3]
    tiles = np.concatenate([first[:, None], coloured], axis=1)  # (n, 1 + k, H, W, 3)
    cols = tiles.shape[1]
    mosaic = np.ones((n * (tile_h + gap) - gap, cols * (tile_w + gap) - gap, 3))
    padded = np.ones((n, cols, tile_h + gap, tile_w + gap, 3))
    padded[:, :, :tile_h, :tile_w] = tiles
    mosaic[:] = padded.transpose(0, 2, 1, 3, 4).reshape(
        n * (tile_h + gap), cols * (tile_w + gap), 3)[: mosaic.shape[0], : mosaic.shape[1]]
    return mosaic, (tile_h, tile_w)


@styled
def plot_feature_maps(inputs: Any, maps: Any, *, layer: str = "", n_images: int = 4,
                      max_channels: int = 12) -> Figure:
    """Rows: test images; first column the input, then one column per channel of ``maps``.

    Each map is scaled to its own range (a feature map's contrast, not its scale,
    is what shows what the filter found). With more channels than
    ``max_channels``, the most varied ones are shown and their indices named.
    """
    m = as_numpy(maps)
    if m.ndim != 4:
        raise ValueError(f"plot_feature_maps: maps must be (N, C, H, W), got shape "
                         f"{tuple(m.shape)}")
    n = min(n_images, len(m), len(as_numpy(inputs)))
    channels = _strongest_channels(m[:n], min(max_channels, m.shape[1]))
    mosaic, (th, tw) = feature_mosaic(as_numpy(inputs)[:n], m[:n], channels)
    cols = len(channels) + 1
    width = 0.8 * cols + 0.8
    height = width * mosaic.shape[0] / mosaic.shape[1] * (0.8 * cols) / width + 0.75
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0.6 / width, 0.1 / height, 1 - 0.7 / width, 1 - 0.75 / height))
    ax.imshow(mosaic, interpolation="nearest", aspect="auto")
    ax.set_xticks([j * (tw + 2) + tw / 2 for j in range(cols)],
                  ["input"] + [f"ch {c}" for c in channels], fontsize=8)
    ax.set_yticks([i * (th + 2) + th / 2 for i in range(n)], [f"image {i}" for i in range(n)],
                  fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    shape = "×".join(str(s) for s in m.shape[1:])
    fig.suptitle(f"feature maps of {layer or 'layer'} ({shape})", fontweight="bold",
                 y=1 - 0.08 / height, va="top")
    return fig


@styled
def plot_filters(weights: Any, *, layer: str = "", max_filters: int = 64,
                 max_cols: int = 8) -> Figure:
    """The filters of a conv layer as small images (O, I, kh, kw).

    Three input channels are shown in colour, each filter stretched to [0, 1];
    otherwise the first input channel (the mean over channels when there are
    more than three) on one symmetric blue-white-red scale shared by all filters,
    so signs and magnitudes compare across filters.
    """
    w = as_numpy(weights).astype(np.float64)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: weights must be (O, I, kh, kw), got shape "
                         f"{tuple(w.shape)}")
    w = w[:max_filters]
    rows, cols = grid_shape(len(w), max_cols)
    fig = new_figure(0.9 * cols + 1.0, 0.95 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False)
    colour = w.shape[1] == 3
    bound = float(np.abs(w).max()) or 1.0
    artist = None
    for k, ax in enumerate(axes.ravel()):
        if k >= len(w):
            ax.set_visible(False)
            continue
        if colour:
            f = np.moveaxis(w[k], 0, -1)
            lo, hi = f.min(), f.max()
            show_image(ax, (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f))
        else:
            f = w[k, 0] if w.shape[1] == 1 else w[k].mean(axis=0)
            artist = show_image(ax, f, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(str(k), fontsize=7, fontweight="normal")
    if artist is not None:
        fig.colorbar(artist, ax=axes.ravel().tolist(), shrink=0.8, pad=0.02)
    what = "RGB" if colour else ("input channel 0" if w.shape[1] == 1 else "mean over inputs")
    fig.suptitle(f"{layer or 'first layer'} filters ({w.shape[2]}×{w.shape[3]}, {what})",
                 fontweight="bold")
    return fig
