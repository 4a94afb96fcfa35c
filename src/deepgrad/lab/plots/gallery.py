"""Misclassification gallery: the most confidently wrong, and the least confident right.

Report 000 shows the five most confident mistakes, report 001 "finds the
mismatches". Confidence is the probability given to the predicted class. The
run folder keeps only the images the galleries need (``gallery_index`` into the
prediction rows, ``gallery_images``), so no dataset access is needed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import (
    RIGHT,
    WRONG,
    as_numpy,
    class_labels,
    grid_shape,
    new_figure,
    show_image,
    styled,
)

__all__ = [
    "least_confident_correct",
    "most_confident_errors",
    "plot_gallery",
    "plot_top_errors",
]


def _confidence(probs: Any, preds: Any | None) -> tuple[np.ndarray, np.ndarray]:
    p = as_numpy(probs)
    if p.ndim != 2:
        raise ValueError(f"gallery: probs must be (N, C) class probabilities, got shape "
                         f"{tuple(p.shape)}")
    pred = p.argmax(axis=1) if preds is None else as_numpy(preds).astype(np.int64)
    return pred, p[np.arange(len(p)), pred]


def most_confident_errors(probs: Any, targets: Any, k: int, preds: Any | None = None) -> np.ndarray:
    """Row indices of the ``k`` wrong predictions with the highest confidence, most confident
    first (ties broken by the lower index, so the choice is reproducible)."""
    pred, conf = _confidence(probs, preds)
    wrong = np.flatnonzero(pred != as_numpy(targets).astype(np.int64))
    order = np.lexsort((wrong, -conf[wrong]))  # last key is primary: confidence descending
    return wrong[order][:k]


def least_confident_correct(probs: Any, targets: Any, k: int,
                            preds: Any | None = None) -> np.ndarray:
    """Row indices of the ``k`` right predictions with the lowest confidence, least first."""
    pred, conf = _confidence(probs, preds)
    right = np.flatnonzero(pred == as_numpy(targets).astype(np.int64))
    order = np.lexsort((right, conf[right]))
    return right[order][:k]


@styled
def plot_gallery(images: Any, true: Sequence[int], pred: Sequence[int], confidence: Sequence[float],
                 class_names: Sequence[Any] | None = None, *, title: str | None = None,
                 max_cols: int = 8) -> Figure:
    """A grid of images, each captioned "true / predicted (confidence)", wrong ones in red."""
    images = as_numpy(images)
    n = len(images)
    if n == 0:
        raise ValueError("plot_gallery: no images to show")
    num = int(max(max(true), max(pred))) + 1
    names = class_labels(class_names, max(num, len(class_names) if class_names is not None else 0))
    rows, cols = grid_shape(n, max_cols)
    fig = new_figure(1.45 * cols + 0.2, 1.75 * rows + (0.35 if title else 0))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, image, t, p, c in zip(axes, images, true, pred, confidence, strict=False):
        show_image(ax, image)
        color = RIGHT if int(t) == int(p) else WRONG
        ax.set_title(f"true {names[int(t)]}\npred {names[int(p)]} ({100 * float(c):.1f}%)",
                     fontsize=8, color=color, fontweight="normal")
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color(color)
            spine.set_linewidth(1.5)
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig


def plot_top_errors(probs: Any, targets: Any, images: Any, *, k: int = 5,
                    class_names: Sequence[Any] | None = None, image_index: Any | None = None,
                    preds: Any | None = None, correct: bool = False,
                    max_cols: int = 8) -> Figure:
    """The ``k`` most confidently wrong test images (or, ``correct=True``, the ``k`` least
    confident correct ones), with true label, predicted label and confidence.

    ``images`` is either one image per prediction row, or, with ``image_index``,
    the images of those rows only (the run folder's ``gallery_images`` and
    ``gallery_index``).
    """
    chosen = (least_confident_correct if correct else most_confident_errors)(
        probs, targets, k, preds)
    if len(chosen) == 0:
        raise ValueError("plot_top_errors: no " + ("correct" if correct else "wrong")
                         + " predictions to show")
    images = as_numpy(images)
    if image_index is not None:
        index = as_numpy(image_index).astype(np.int64)
        where = {int(row): k for k, row in enumerate(index)}
        missing = [int(r) for r in chosen if int(r) not in where]
        if missing:
            raise KeyError(f"plot_top_errors: rows {missing[:5]} have no stored image; "
                           f"gallery_index holds {len(index)} rows")
        picked = images[[where[int(r)] for r in chosen]]
    else:
        picked = images[chosen]
    pred, conf = _confidence(probs, preds)
    t = as_numpy(targets).astype(np.int64)
    title = (f"least confident correct predictions ({len(chosen)})" if correct
             else f"most confident mistakes (top {len(chosen)})")
    return plot_gallery(picked, t[chosen], pred[chosen], conf[chosen], class_names,
                        title=title, max_cols=max_cols)
