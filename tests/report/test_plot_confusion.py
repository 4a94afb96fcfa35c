"""Confusion matrix: the image's cells are the computed matrix; per-class bars are the scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepgrad.lab.plots import (
    confusion_matrix,
    per_class_metrics,
    plot_confusion_matrix,
    plot_per_class_metrics,
)

TARGETS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
PREDS = np.array([0, 0, 1, 1, 2, 2, 2, 0, 2, 1])
CM = np.array([[2, 1, 0],
               [0, 2, 1],
               [1, 0, 3]])
NAMES = ["cat", "dog", "bird"]


def test_confusion_matrix_by_hand() -> None:
    np.testing.assert_array_equal(confusion_matrix(TARGETS, PREDS), CM)
    np.testing.assert_array_equal(confusion_matrix(TARGETS, PREDS, 4)[:3, :3], CM)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        confusion_matrix(TARGETS, PREDS, 2)
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix(TARGETS, PREDS[:3])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60))
def test_confusion_matrix_counts_every_pair(pairs) -> None:
    t, p = np.array(pairs).T
    cm = confusion_matrix(t, p, 5)
    expected = np.zeros((5, 5), dtype=np.int64)
    for a, b in pairs:
        expected[a, b] += 1
    np.testing.assert_array_equal(cm, expected)


def test_per_class_metrics_by_hand() -> None:
    m = per_class_metrics(CM)
    np.testing.assert_allclose(m["recall"], [2 / 3, 2 / 3, 3 / 4])
    np.testing.assert_allclose(m["precision"], [2 / 3, 2 / 3, 3 / 4])
    np.testing.assert_array_equal(m["support"], [3, 3, 4])
    never = per_class_metrics(np.array([[1, 0], [1, 0]]))  # class 1 never predicted
    assert never["precision"][1] == 0 and never["f1"][1] == 0


def test_confusion_image_cells_equal_the_matrix() -> None:
    fig = plot_confusion_matrix(TARGETS, PREDS, NAMES)
    counts_ax, norm_ax = [ax for ax in fig.axes if ax.images]
    np.testing.assert_array_equal(np.asarray(counts_ax.images[0].get_array()), CM)
    np.testing.assert_allclose(np.asarray(norm_ax.images[0].get_array()),
                               CM / CM.sum(axis=1, keepdims=True))
    texts = [int(t.get_text()) for t in counts_ax.texts]
    np.testing.assert_array_equal(np.array(texts).reshape(3, 3), CM)
    assert [t.get_text() for t in counts_ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in counts_ax.get_yticklabels()] == NAMES
    assert counts_ax.get_xlabel() == "predicted label"
    assert counts_ax.get_ylabel() == "true label"
    assert "accuracy 70.00%" in fig.get_suptitle()
    single = plot_confusion_matrix(TARGETS, PREDS, normalize="none")
    assert len([ax for ax in single.axes if ax.images]) == 1
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(TARGETS, PREDS, normalize="pred")


def test_per_class_bars_are_the_scores() -> None:
    fig = plot_per_class_metrics(TARGETS, PREDS, NAMES)
    ax = fig.axes[0]
    heights = np.array([p.get_height() for p in ax.patches]).reshape(3, 3)
    m = per_class_metrics(CM)
    np.testing.assert_allclose(heights[0], m["recall"])
    np.testing.assert_allclose(heights[1], m["precision"])
    np.testing.assert_allclose(heights[2], m["f1"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["recall (per-class accuracy)", "precision", "F1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
