"""Confusion matrix (counts and row-normalised) and per-class precision / recall bars."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import PALETTE, as_numpy, class_labels, new_figure, styled

__all__ = [
    "confusion_matrix",
    "per_class_metrics",
    "plot_confusion_matrix",
    "plot_per_class_metrics",
]


def confusion_matrix(targets: Any, preds: Any, num_classes: int | None = None) -> np.ndarray:
    """``cm[i, j]`` = how many samples of true class ``i`` were predicted as ``j`` (int64).

    One ``bincount`` over ``i * C + j``: no loop over samples.
    """
    t = as_numpy(targets).astype(np.int64).ravel()
    p = as_numpy(preds).astype(np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: targets {tuple(t.shape)} and preds "
                         f"{tuple(p.shape)} differ "
                         "in length")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if len(t) and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"confusion_matrix: labels must be in [0, {num_classes}), "
                         f"got targets in [{t.min()}, {t.max()}], preds in [{p.min()}, {p.max()}]")
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def per_class_metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per class: ``recall`` (= per-class accuracy, share of the class found), ``precision``,
    ``f1`` and ``support`` (true count). Classes never predicted get precision 0."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"recall": recall, "precision": precision, "f1": f1,
            "support": support.astype(np.int64)}


def _row_normalise(cm: np.ndarray) -> np.ndarray:
    totals = cm.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)


def _draw_matrix(ax: Any, values: np.ndarray, names: list[str], title: str, fmt: str,
                 vmax: float) -> None:
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
    n = len(names)
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0,
                  ha="right" if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(title)
    ax.grid(False)
    if n <= 20:  # numbers in the cells, dark on light and light on dark
        size = 8 if n <= 10 else 6
        for i in range(n):
            for j in range(n):
                v = values[i, j]
                ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=size,
                        color="white" if v > 0.55 * vmax else "#1d2733")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


@styled
def plot_confusion_matrix(targets: Any, preds: Any, class_names: Sequence[Any] | None = None, *,
                          num_classes: int | None = None, normalize: str = "both") -> Figure:
    """The confusion matrix with class names on the axes: counts, row-normalised, or both.

    ``normalize``: ``"both"`` (two panels), ``"none"`` (counts) or ``"true"`` (each row
    divided by its class count, so the diagonal is the per-class recall). The
    image's pixel values are exactly the matrix.
    """
    if normalize not in {"both", "none", "true"}:
        raise ValueError(f"plot_confusion_matrix: normalize must be 'both', 'none' or 'true', "
                         f"got {normalize!r}")
    if num_classes is None and class_names is not None and len(class_names):
        num_classes = len(class_names)
    cm = confusion_matrix(targets, preds, num_classes)
    names = class_labels(class_names, len(cm))
    panels = ["none", "true"] if normalize == "both" else [normalize]
    side = min(5.2, 2.2 + 0.33 * len(names))
    fig = new_figure(side * len(panels) + 0.6 * len(panels), side)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "none":
            _draw_matrix(ax, cm, names, "counts", "d", float(max(cm.max(), 1)))
        else:
            _draw_matrix(ax, _row_normalise(cm), names, "row-normalised (recall on diagonal)",
                         ".2f", 1.0)
    fig.suptitle(f"confusion matrix — {int(cm.sum())} samples, accuracy {100 * accuracy:.2f}%",
                 fontweight="bold")
    return fig


@styled
def plot_per_class_metrics(targets: Any, preds: Any, class_names: Sequence[Any] | None = None,
                           *, num_classes: int | None = None) -> Figure:
    """Grouped bars per class: recall (the per-class accuracy), precision and F1."""
    if num_classes is None and class_names is not None and len(class_names):
        num_classes = len(class_names)
    cm = confusion_matrix(targets, preds, num_classes)
    metrics = per_class_metrics(cm)
    names = class_labels(class_names, len(cm))
    x = np.arange(len(names))
    width = 0.27
    fig = new_figure(max(5.0, 0.55 * len(names) + 2.0), 3.2)
    ax = fig.add_subplot()
    shown = [("recall", "recall (per-class accuracy)"), ("precision", "precision"), ("f1", "F1")]
    for k, (key, label) in enumerate(shown):
        ax.bar(x + (k - 1) * width, metrics[key], width, label=label, color=PALETTE[k])
    ax.set_xticks(x, names, rotation=45 if max(map(len, names)) > 2 else 0,
                  ha="right" if max(map(len, names)) > 2 else "center")
    ax.set_ylim(0, 1.22)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("score")
    ax.set_xlabel("class")
    ax.set_title("per-class recall, precision and F1")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper center", ncols=3)
    return fig
