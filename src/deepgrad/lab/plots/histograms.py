"""Weight, gradient and activation distributions per layer over training.

Input is the run's ``histograms.npz``: ``steps`` (S,) and, per kind in
{weight, grad, act} and layer name, ``<kind>/<name>/counts`` (S, B),
``<kind>/<name>/edges`` (S, B+1), ``<kind>/<name>/stats`` (S, 4) = mean, std,
min, max, and for activations ``dead_frac`` / ``saturated_frac`` (S,). Any
mapping with those keys works (an NpzFile, a dict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import PALETTE, grid_figure, grid_shape, new_figure, styled

__all__ = [
    "KINDS",
    "histogram_names",
    "plot_histograms",
    "plot_layer_stats",
    "plot_unit_saturation",
]

KINDS = {"weight": "weights", "grad": "gradients", "act": "activations"}


def histogram_names(hist: Mapping[str, Any], kind: str) -> list[str]:
    """Layer names recorded for ``kind``, in file order (``fc1.weight`` / ``fc1``)."""
    if kind not in KINDS:
        raise ValueError(f"histogram_names: kind must be one of {sorted(KINDS)}, got {kind!r}")
    names: list[str] = []
    for key in hist.keys():
        parts = key.split("/")
        if len(parts) >= 3 and parts[0] == kind and parts[-1] == "counts":
            name = "/".join(parts[1:-1])
            if name not in names:
                names.append(name)
    return names


def _steps(hist: Mapping[str, Any], n: int) -> np.ndarray:
    steps = hist["steps"] if "steps" in hist else np.arange(n)
    return np.asarray(steps)


def _pick(hist: Mapping[str, Any], kind: str, names: Sequence[str] | None,
          max_layers: int) -> list[str]:
    available = histogram_names(hist, kind)
    if names is None:
        return available[:max_layers]
    missing = [n for n in names if n not in available]
    if missing:
        raise KeyError(f"histograms: no {kind} histograms for {missing}; recorded: {available}")
    return list(names)


@styled
def plot_histograms(hist: Mapping[str, Any], kind: str = "weight", *,
                    names: Sequence[str] | None = None, max_layers: int = 12,
                    max_cols: int = 4) -> Figure:
    """One panel per layer, one histogram line per recorded step (dark early, yellow late).

    The view of report 001's weight distributions and TensorBoard's histogram
    dashboard: how each layer's distribution moves, widens or collapses as
    training goes on. Frequencies are fractions of the layer's values.
    """
    chosen = _pick(hist, kind, names, max_layers)
    if not chosen:
        raise ValueError(f"plot_histograms: no {kind} histograms recorded")
    rows, cols = grid_shape(len(chosen), max_cols)
    fig, grid = grid_figure(rows, cols, (3.2, 2.4), right=0.9)
    axes = grid.ravel()
    first = np.asarray(hist[f"{kind}/{chosen[0]}/counts"])
    steps = _steps(hist, len(first))
    cmap = mpl.colormaps["viridis"]
    norm = mpl.colors.Normalize(vmin=float(steps.min()), vmax=float(max(steps.max(),
                                                                      steps.min() + 1)))
    for ax, name in zip(axes, chosen, strict=False):
        counts = np.asarray(hist[f"{kind}/{name}/counts"], dtype=np.float64)
        edges = np.asarray(hist[f"{kind}/{name}/edges"], dtype=np.float64)
        if edges.ndim == 1:
            edges = np.broadcast_to(edges, (len(counts), len(edges)))
        totals = counts.sum(axis=1, keepdims=True)
        freq = counts / np.where(totals > 0, totals, 1)
        for s in range(len(counts)):  # one step outline per recorded step
            ax.stairs(freq[s], edges[s], color=cmap(norm(float(steps[s]))), lw=1.2)
        title = name
        dead = hist.get(f"{kind}/{name}/dead_frac") if hasattr(hist, "get") else None
        if kind == "act" and dead is not None and len(dead):
            title += f"  (dead {100 * float(np.asarray(dead)[-1]):.0f}%)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("value")
        ax.set_ylabel("fraction")
    for ax in axes[len(chosen):]:
        ax.set_visible(False)
    width, height = fig.get_size_inches()
    bar_axes = fig.add_axes((1 - 0.65 / width, 0.45 / height, 0.12 / width,
                             1 - 1.15 / height))
    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), cax=bar_axes)
    bar.set_label("step")
    fig.suptitle(f"{KINDS[kind]} per layer over training", fontweight="bold")
    return fig


@styled
def plot_layer_stats(hist: Mapping[str, Any], kind: str = "act", *,
                     names: Sequence[str] | None = None, max_layers: int = 12,
                     max_cols: int = 4) -> Figure:
    """Per layer: mean with a one-std band, and min/max, against the step.

    The scalar summaries report 004 read from TensorBoard; exploding or vanishing
    values show as a band that runs away or shrinks to a line.
    """
    chosen = [n for n in _pick(hist, kind, names, max_layers) if f"{kind}/{n}/stats" in hist]
    if not chosen:
        raise ValueError(f"plot_layer_stats: no {kind} statistics recorded")
    rows, cols = grid_shape(len(chosen), max_cols)
    fig, grid = grid_figure(rows, cols, (3.2, 2.4))
    axes = grid.ravel()
    for ax, name in zip(axes, chosen, strict=False):
        stats = np.asarray(hist[f"{kind}/{name}/stats"], dtype=np.float64)
        steps = _steps(hist, len(stats))
        mean, std, low, high = stats.T
        ax.fill_between(steps, mean - std, mean + std, color=PALETTE[0], alpha=0.2,
                        label="mean ± std")
        ax.plot(steps, mean, color=PALETTE[0], lw=1.6, label="mean",
                marker="o" if len(steps) <= 30 else "", ms=3)
        ax.plot(steps, low, color=PALETTE[3], lw=0.9, ls=":", label="min")
        ax.plot(steps, high, color=PALETTE[2], lw=0.9, ls=":", label="max")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel(kind if kind != "act" else "activation")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=4)
    for ax in axes[len(chosen):]:
        ax.set_visible(False)
    fig.suptitle(f"{KINDS[kind]}: mean, std, min and max per layer", fontweight="bold",
                 x=0.02, ha="left")
    return fig


def saturation_names(hist: Mapping[str, Any]) -> dict[str, list[str]]:
    """Layers with a dead-unit or saturated-unit record: ``{"dead": [...], "saturated": [...]}``."""
    found: dict[str, list[str]] = {"dead": [], "saturated": []}
    for key in hist.keys():
        parts = key.split("/")
        if len(parts) >= 3 and parts[0] == "act":
            if parts[-1] == "dead_frac":
                found["dead"].append("/".join(parts[1:-1]))
            elif parts[-1] == "saturated_frac":
                found["saturated"].append("/".join(parts[1:-1]))
    return found


@styled
def plot_unit_saturation(hist: Mapping[str, Any]) -> Figure:
    """Fraction of dead ReLU outputs (exact zeros) and of saturated sigmoid/tanh outputs.

    One panel per kind, one line per layer. A dead fraction that climbs towards
    1 is units that stopped learning; saturation near the bounds kills gradients
    the same way.
    """
    found = saturation_names(hist)
    kinds = [k for k in ("dead", "saturated") if found[k]]
    if not kinds:
        raise ValueError("plot_unit_saturation: no dead_frac or saturated_frac recorded")
    fig = new_figure(4.4 * len(kinds), 3.2)
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    titles = {"dead": "dead ReLU fraction (outputs exactly 0)",
              "saturated": "saturated fraction (within 0.01 of the bounds)"}
    for ax, kind in zip(axes, kinds, strict=True):
        for k, name in enumerate(found[kind]):
            values = np.asarray(hist[f"act/{name}/{kind}_frac"], dtype=np.float64)
            steps = _steps(hist, len(values))
            ax.plot(steps, 100 * values, color=PALETTE[k % len(PALETTE)], lw=1.6,
                    marker="o", ms=3, label=name)
        ax.set_ylim(0, 100)
        ax.set_title(titles[kind], fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("% of units")
        ax.legend(loc="best")
    return fig
