"""Decision boundary of a 2-D classifier over its data (report 004), and over epochs.

Grid convention (the run folder's ``boundary.npz``): ``xx`` (G,) and ``yy`` (G,)
are the axes, and ``probs[..., i, j, :]`` are the class probabilities at the
point ``(xx[j], yy[i])`` — rows follow y, columns follow x, as
``np.meshgrid(xx, yy)`` lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import PALETTE, as_numpy, grid_shape, new_figure, styled

__all__ = [
    "boundary_grid",
    "plot_boundary_sequence",
    "plot_decision_boundaries",
    "plot_decision_boundary",
]


def boundary_grid(predict_proba: Callable[[np.ndarray], Any], points: Any, *,
                  resolution: int = 150, padding: float = 0.25
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a classifier on a grid around ``points``: ``(xx, yy, probs (G, G, C))``.

    ``predict_proba`` maps an (M, 2) float32 array to (M, C) class probabilities
    (or (M,) of the positive class); it is called once on the whole grid. The
    grid spans the data plus ``padding`` times its range on each side.
    """
    pts = as_numpy(points).astype(np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"boundary_grid: points must be (N, 2), got shape {tuple(pts.shape)}")
    low, high = pts.min(axis=0), pts.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - padding * span, high + padding * span
    xx = np.linspace(low[0], high[0], resolution)
    yy = np.linspace(low[1], high[1], resolution)
    gx, gy = np.meshgrid(xx, yy)
    flat = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    probs = as_numpy(predict_proba(flat)).astype(np.float32)
    if probs.ndim == 1:
        probs = np.stack([1 - probs, probs], axis=1)
    return xx, yy, probs.reshape(resolution, resolution, -1)


def _region_image(probs: np.ndarray) -> np.ndarray:
    """RGB image: each pixel the winning class colour, paler where the model is unsure."""
    n_classes = probs.shape[-1]
    colours = np.array([mpl.colors.to_rgb(PALETTE[k % len(PALETTE)]) for k in range(n_classes)])
    winner = probs.argmax(axis=-1)
    confidence = probs.max(axis=-1)
    # rescale confidence from [1/C, 1] to [0, 1]; then blend the class colour with white
    strength = np.clip((confidence - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0, 1)
    alpha = (0.15 + 0.45 * strength)[..., None]
    return np.clip((1 - alpha) * 1.0 + alpha * colours[winner], 0.0, 1.0)


def _draw(ax: Any, xx: np.ndarray, yy: np.ndarray, probs: np.ndarray, points: Any,
          labels: Any, class_names: Sequence[Any] | None, legend: bool) -> None:
    ax.imshow(_region_image(probs), origin="lower", aspect="auto",
              extent=(xx[0], xx[-1], yy[0], yy[-1]), interpolation="bilinear")
    if probs.shape[-1] == 2:
        ax.contour(xx, yy, probs[..., 1], levels=[0.5], colors="#1d2733", linewidths=1.2)
    else:
        winner = probs.argmax(axis=-1)
        ax.contour(xx, yy, winner, levels=np.arange(probs.shape[-1]) + 0.5,
                   colors="#1d2733", linewidths=0.8)
    if points is not None and labels is not None:
        pts = as_numpy(points)
        lab = as_numpy(labels).astype(np.int64)
        for c in np.unique(lab):
            sel = lab == c
            name = str(class_names[c]) if class_names is not None and c < len(class_names) \
                else f"class {c}"
            ax.scatter(pts[sel, 0], pts[sel, 1], s=10, color=PALETTE[c % len(PALETTE)],
                       edgecolors="#1d2733", linewidths=0.4, label=name)
        if legend:
            ax.legend(loc="upper right", frameon=True, markerscale=1.5)
    ax.set_xlim(xx[0], xx[-1])
    ax.set_ylim(yy[0], yy[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)


@styled
def plot_decision_boundary(xx: Any, yy: Any, probs: Any, points: Any = None, labels: Any = None,
                           *, class_names: Sequence[Any] | None = None,
                           title: str = "decision boundary") -> Figure:
    """Class regions (colour = predicted class, paleness = uncertainty), the 0.5 contour
    and the data points coloured by their true class."""
    p = as_numpy(probs)
    if p.ndim != 3:
        raise ValueError(f"plot_decision_boundary: probs must be (G, G, C), got shape "
                         f"{tuple(p.shape)}")
    fig = new_figure(4.6, 4.0)
    ax = fig.add_subplot()
    _draw(ax, as_numpy(xx), as_numpy(yy), p, points, labels, class_names, legend=True)
    ax.set_title(title)
    return fig


@styled
def plot_boundary_sequence(xx: Any, yy: Any, probs: Any, epochs: Any, points: Any = None,
                           labels: Any = None, *, class_names: Sequence[Any] | None = None,
                           max_panels: int = 8, max_cols: int = 4) -> Figure:
    """Small multiples of the boundary at recorded epochs (E, G, G, C): how it forms.

    With more epochs than ``max_panels``, evenly spaced ones are shown, always
    including the first and the last.
    """
    p = as_numpy(probs)
    if p.ndim != 4:
        raise ValueError(f"plot_boundary_sequence: probs must be (E, G, G, C), got "
                         f"{tuple(p.shape)}")
    ep = as_numpy(epochs)
    picks = np.unique(np.linspace(0, len(p) - 1, min(max_panels, len(p))).round().astype(int))
    rows, cols = grid_shape(len(picks), max_cols)
    fig = new_figure(3.0 * cols, 2.8 * rows + 0.3)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for k, (ax, e) in enumerate(zip(axes, picks, strict=False)):
        _draw(ax, as_numpy(xx), as_numpy(yy), p[e], points, labels, class_names,
              legend=k == 0)
        ax.set_title(f"epoch {int(ep[e])}", fontsize=9)
    for ax in axes[len(picks):]:
        ax.set_visible(False)
    fig.suptitle("decision boundary over training", fontweight="bold")
    return fig


@styled
def plot_decision_boundaries(boundaries: Mapping[str, Mapping[str, Any]], *,
                             class_names: Sequence[Any] | None = None,
                             max_cols: int = 4) -> Figure:
    """Final boundaries of several runs side by side, one panel per run label.

    Each value is a ``boundary.npz`` mapping (``xx``, ``yy``, ``probs`` (E, G, G, C),
    ``points``, ``labels``); its last recorded epoch is drawn.
    """
    if not boundaries:
        raise ValueError("plot_decision_boundaries: no boundaries given")
    rows, cols = grid_shape(len(boundaries), max_cols)
    fig = new_figure(3.2 * cols, 3.0 * rows + 0.3)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for k, (ax, (label, b)) in enumerate(zip(axes, boundaries.items(), strict=False)):
        probs = as_numpy(b["probs"])
        epochs = as_numpy(b["epochs"]) if "epochs" in b else np.arange(1, len(probs) + 1)
        _draw(ax, as_numpy(b["xx"]), as_numpy(b["yy"]), probs[-1] if probs.ndim == 4 else probs,
              b.get("points"), b.get("labels"), class_names, legend=k == 0)
        ax.set_title(f"{label} (epoch {int(epochs[-1])})", fontsize=9)
    for ax in axes[len(boundaries):]:
        ax.set_visible(False)
    fig.suptitle("decision boundaries compared", fontweight="bold")
    return fig
