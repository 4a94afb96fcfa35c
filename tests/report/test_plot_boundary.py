"""Decision boundary: the grid classifies known points correctly, and the picture agrees."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest
import synthetic_run

from deepgrad.lab.plots import (
    boundary_grid,
    plot_boundary_sequence,
    plot_decision_boundaries,
    plot_decision_boundary,
)
from deepgrad.lab.plots._common import PALETTE


def above_line(points: np.ndarray) -> np.ndarray:
    """Class 1 where y > 0.5 x + 0.2: depends on both axes, so a transposed grid fails."""
    p1 = 1 / (1 + np.exp(np.clip(-20 * (points[:, 1] - 0.5 * points[:, 0] - 0.2), -50, 50)))
    return np.stack([1 - p1, p1], axis=1)


def test_grid_classifies_known_points() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(-2, 2, (200, 2))
    xx, yy, probs = boundary_grid(above_line, points, resolution=81)
    assert probs.shape == (81, 81, 2)
    assert xx[0] < points[:, 0].min() and xx[-1] > points[:, 0].max()
    for x, y, label in [(-1.5, 1.0, 1), (1.5, -1.0, 0), (1.0, 1.5, 1), (-1.0, -1.5, 0)]:
        i, j = np.abs(yy - y).argmin(), np.abs(xx - x).argmin()
        assert probs[i, j].argmax() == label, (x, y)
    sigmoid_only = boundary_grid(lambda p: above_line(p)[:, 1], points, resolution=11)[2]
    assert sigmoid_only.shape == (11, 11, 2)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        boundary_grid(above_line, np.zeros((5, 3)))


def test_boundary_picture_colours_regions_by_class() -> None:
    rng = np.random.default_rng(1)
    points = rng.uniform(-2, 2, (60, 2))
    labels = above_line(points).argmax(axis=1)
    xx, yy, probs = boundary_grid(above_line, points, resolution=60)
    fig = plot_decision_boundary(xx, yy, probs, points, labels, class_names=["below", "above"])
    ax = fig.axes[0]
    image = np.asarray(ax.images[0].get_array())
    assert ax.images[0].origin == "lower"
    for x, y, label in [(-1.5, 1.5, 1), (1.5, -1.5, 0)]:
        i, j = np.abs(yy - y).argmin(), np.abs(xx - x).argmin()
        tint = 1 - image[i, j]  # white blended with the class colour: parallel to 1 - colour
        cosines = [tint @ (1 - np.array(mpl.colors.to_rgb(PALETTE[c])))
                   / np.linalg.norm(tint) / np.linalg.norm(1 - np.array(mpl.colors.to_rgb(
                       PALETTE[c]))) for c in range(2)]
        assert int(np.argmax(cosines)) == label
        assert max(cosines) > 0.999
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["below", "above"]
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    scatter = ax.collections[-2:]
    drawn = np.concatenate([c.get_offsets() for c in scatter])
    assert len(drawn) == len(points)


def test_sequence_shows_first_and_last_epoch() -> None:
    b = synthetic_run.boundary(epochs=3)
    fig = plot_boundary_sequence(b["xx"], b["yy"], b["probs"], b["epochs"], b["points"],
                                 b["labels"], max_panels=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["epoch 1", "epoch 3"]
    many = np.repeat(b["probs"], 4, axis=0)
    fig = plot_boundary_sequence(b["xx"], b["yy"], many, np.arange(1, 13), max_panels=5)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()][::4] == ["epoch 1", "epoch 12"]
    compared = plot_decision_boundaries({"sgd": b, "adam": b})
    assert [ax.get_title() for ax in compared.axes if ax.get_visible()] == [
        "sgd (epoch 3)", "adam (epoch 3)"]
