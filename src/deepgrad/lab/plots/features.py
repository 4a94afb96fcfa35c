"""Conv feature maps for a few fixed test images, and the first layer's filters (report 001).

Input is the run's ``activations.npz``: ``inputs`` (8, C, H, W), one array per
layer output keyed by module path (``conv1`` -> (8, C', H', W')), and
``weights/<path>`` for the first conv layer's filters (O, I, kh, kw).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import as_numpy, grid_shape, new_figure, show_image, styled

__all__ = ["feature_map_layers", "filter_keys", "plot_feature_maps", "plot_filters"]


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


@styled
def plot_feature_maps(inputs: Any, maps: Any, *, layer: str = "", n_images: int = 4,
                      max_channels: int = 12) -> Figure:
    """Rows: test images; first column the input, then one column per channel of ``maps``.

    Each map is scaled to its own range (a feature map's contrast, not its scale,
    is what shows what the filter found). With more channels than
    ``max_channels``, the most varied ones are shown and their indices named.
    """
    x = as_numpy(inputs)
    m = as_numpy(maps)
    if m.ndim != 4:
        raise ValueError(f"plot_feature_maps: maps must be (N, C, H, W), got shape {m.shape}")
    n = min(n_images, len(m), len(x))
    channels = _strongest_channels(m[:n], min(max_channels, m.shape[1]))
    cols = len(channels) + 1
    fig = new_figure(1.05 * cols + 0.2, 1.15 * n + 0.5)
    axes = fig.subplots(n, cols, squeeze=False)
    for i in range(n):
        show_image(axes[i, 0], x[i])
        axes[i, 0].set_ylabel(f"image {i}", fontsize=8)
        for j, c in enumerate(channels, start=1):
            show_image(axes[i, j], m[i, c], cmap="viridis")
            if i == 0:
                axes[i, j].set_title(f"ch {c}", fontsize=8, fontweight="normal")
    axes[0, 0].set_title("input", fontsize=8, fontweight="normal")
    shape = "×".join(str(s) for s in m.shape[1:])
    fig.suptitle(f"feature maps of {layer or 'layer'} ({shape})", fontweight="bold")
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
        raise ValueError(f"plot_filters: weights must be (O, I, kh, kw), got shape {w.shape}")
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
