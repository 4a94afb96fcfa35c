"""Galleries pick exactly the k most confident errors (and least confident hits) and show them."""

from __future__ import annotations

import numpy as np
import pytest
import synthetic_run

from deepgrad.lab.plots import (
    least_confident_correct,
    most_confident_errors,
    plot_gallery,
    plot_top_errors,
)

# rows: confidence of the predicted class; targets chosen so rows 0, 2, 3, 5 are wrong
PROBS = np.array([
    [0.90, 0.10],  # pred 0, target 1: wrong, conf 0.90
    [0.20, 0.80],  # pred 1, target 1: right, conf 0.80
    [0.40, 0.60],  # pred 1, target 0: wrong, conf 0.60
    [0.05, 0.95],  # pred 1, target 0: wrong, conf 0.95
    [0.55, 0.45],  # pred 0, target 0: right, conf 0.55
    [0.10, 0.90],  # pred 1, target 0: wrong, conf 0.90 (ties row 0: lower index first)
    [0.51, 0.49],  # pred 0, target 0: right, conf 0.51
])
TARGETS = np.array([1, 1, 0, 0, 0, 0, 0])


def test_most_confident_errors_known_set() -> None:
    np.testing.assert_array_equal(most_confident_errors(PROBS, TARGETS, 3), [3, 0, 5])
    np.testing.assert_array_equal(most_confident_errors(PROBS, TARGETS, 10), [3, 0, 5, 2])
    np.testing.assert_array_equal(least_confident_correct(PROBS, TARGETS, 2), [6, 4])
    assert len(most_confident_errors(PROBS[[1]], TARGETS[[1]], 5)) == 0


def test_errors_agree_with_a_brute_force_choice() -> None:
    p = synthetic_run.classification_predictions(n=300, seed=3)
    probs, targets = p["probs"], p["targets"]
    conf = probs.max(axis=1)
    wrong = [i for i in range(len(probs)) if probs[i].argmax() != targets[i]]
    expected = sorted(wrong, key=lambda i: (-conf[i], i))[:7]
    np.testing.assert_array_equal(most_confident_errors(probs, targets, 7), expected)


def test_top_errors_shows_the_chosen_images_with_captions() -> None:
    images = np.arange(7 * 4 * 4, dtype=np.uint8).reshape(7, 4, 4)
    fig = plot_top_errors(PROBS, TARGETS, images, k=3, class_names=["no", "yes"])
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    for ax, row in zip(panels, [3, 0, 5], strict=True):
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), images[row])
    assert panels[0].get_title() == "true no\npred yes (95.0%)"
    assert panels[1].get_title() == "true yes\npred no (90.0%)"
    assert "most confident mistakes (top 3)" in fig.get_suptitle()


def test_gallery_images_looked_up_through_gallery_index() -> None:
    stored_rows = np.array([5, 3, 0, 6])
    stored = np.stack([np.full((3, 3), r, dtype=np.uint8) for r in stored_rows])
    fig = plot_top_errors(PROBS, TARGETS, stored, k=2, image_index=stored_rows)
    shown = [int(np.asarray(ax.images[0].get_array())[0, 0]) for ax in fig.axes
             if ax.get_visible()]
    assert shown == [3, 0]
    right = plot_top_errors(PROBS, TARGETS, stored, k=1, image_index=stored_rows, correct=True)
    assert "least confident correct" in right.get_suptitle()
    with pytest.raises(KeyError, match="no stored image"):
        plot_top_errors(PROBS, TARGETS, stored, k=4, image_index=stored_rows)


def test_gallery_colours_right_and_wrong() -> None:
    fig = plot_gallery(np.zeros((2, 5, 5, 3), dtype=np.uint8), [0, 1], [0, 0], [0.7, 0.6])
    right, wrong = [ax.title.get_color() for ax in fig.axes[:2]]
    assert right != wrong
    with pytest.raises(ValueError, match="no images"):
        plot_gallery(np.zeros((0, 5, 5)), [], [], [])


def test_colour_images_are_shown_as_they_are() -> None:
    images = np.random.default_rng(5).integers(0, 256, (7, 6, 6, 3), dtype=np.uint8)
    fig = plot_top_errors(PROBS, TARGETS, images, k=1)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), images[3])
