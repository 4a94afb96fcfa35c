"""Histogram figures: one panel per layer, one outline per step, stats and dead units."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad.lab.plots import histograms as H


def test_names_per_kind(hist) -> None:
    assert H.histogram_names(hist, "weight") == ["conv1.weight", "fc1.weight"]
    assert H.histogram_names(hist, "act") == ["conv1", "fc1", "sig"]
    with pytest.raises(ValueError, match="kind"):
        H.histogram_names(hist, "bias")


def test_histograms_draw_each_step_as_fractions(hist) -> None:
    fig = H.plot_histograms(hist, "act")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["conv1  (dead 50%)", "fc1  (dead 25%)", "sig"]
    counts = hist["act/fc1/counts"]
    edges = hist["act/fc1/edges"]
    steps = panels[1].patches  # one step outline (StepPatch) per recorded step
    assert len(steps) == len(hist["steps"])
    for s, patch in enumerate(steps):
        values, drawn_edges, _ = patch.get_data()
        np.testing.assert_allclose(values, counts[s] / counts[s].sum())
        np.testing.assert_allclose(drawn_edges, edges[s])
    assert panels[0].get_xlabel() == "value" and panels[0].get_ylabel() == "fraction"
    assert any(ax.get_ylabel() == "step" for ax in fig.axes)  # the colour bar


def test_layer_stats_plot_the_recorded_numbers(hist) -> None:
    fig = H.plot_layer_stats(hist, "weight")
    ax = fig.axes[0]
    assert ax.get_title() == "conv1.weight"
    stats = hist["weight/conv1.weight/stats"]
    mean, low, high = ax.get_lines()[:3]
    np.testing.assert_allclose(mean.get_xdata(), hist["steps"])
    np.testing.assert_allclose(mean.get_ydata(), stats[:, 0])
    np.testing.assert_allclose(low.get_ydata(), stats[:, 2])
    np.testing.assert_allclose(high.get_ydata(), stats[:, 3])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["mean ± std", "mean", "min", "max"]


def test_dead_and_saturated_fractions(hist) -> None:
    fig = H.plot_unit_saturation(hist)
    dead_ax, sat_ax = fig.axes
    assert "dead" in dead_ax.get_title() and "saturated" in sat_ax.get_title()
    by_label = {ln.get_label(): ln for ln in dead_ax.get_lines()}
    np.testing.assert_allclose(by_label["conv1"].get_ydata(), 100 * hist["act/conv1/dead_frac"])
    np.testing.assert_allclose(sat_ax.get_lines()[0].get_ydata(),
                               100 * hist["act/sig/saturated_frac"])
    assert dead_ax.get_ylim() == (0, 100)


def test_missing_kinds_raise_clearly() -> None:
    empty = {"steps": np.arange(2)}
    with pytest.raises(ValueError, match="no grad histograms"):
        H.plot_histograms(empty, "grad")
    with pytest.raises(ValueError, match="dead_frac"):
        H.plot_unit_saturation(empty)
    with pytest.raises(KeyError, match="nope"):
        H.plot_histograms({"steps": np.arange(1), "weight/a/counts": np.ones((1, 3)),
                           "weight/a/edges": np.arange(4.0)[None]}, "weight", names=["nope"])
