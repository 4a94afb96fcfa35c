"""Feature maps and filters: the pixels drawn are the recorded arrays."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest

from deepgrad.lab.plots import plot_feature_maps, plot_filters
from deepgrad.lab.plots.features import feature_map_layers, feature_mosaic, filter_keys


def test_mosaic_tiles_hold_the_input_and_the_scaled_maps() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.random((2, 1, 6, 6))
    maps = rng.random((2, 3, 3, 3)) * 5 - 1
    mosaic, (th, tw) = feature_mosaic(inputs, maps, [0, 2], gap=2)
    assert (th, tw) == (6, 6)
    assert mosaic.shape == (2 * 8 - 2, 3 * 8 - 2, 3)
    x = inputs[1, 0]
    grey = (x - x.min()) / (x.max() - x.min())
    np.testing.assert_allclose(mosaic[8:14, 0:6, 0], grey)  # row 1, column 0: the input
    m = maps[0, 2]
    unit = (m - m.min()) / (m.max() - m.min())
    upscaled = np.repeat(np.repeat(unit, 2, axis=0), 2, axis=1)  # 3x3 -> 6x6, nearest
    expected = mpl.colormaps["viridis"](upscaled)[..., :3]
    np.testing.assert_allclose(mosaic[0:6, 16:22], expected)  # row 0, column 2: channel 2
    assert np.all(mosaic[6:8] == 1.0)  # white gaps between tiles


def test_feature_maps_name_the_most_varied_channels() -> None:
    rng = np.random.default_rng(1)
    maps = np.zeros((4, 6, 5, 5))
    maps[:, [1, 4]] = rng.random((4, 2, 5, 5))  # only channels 1 and 4 vary
    fig = plot_feature_maps(rng.random((4, 1, 5, 5)), maps, layer="conv2", n_images=3,
                            max_channels=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["input", "ch 1", "ch 4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["image 0", "image 1", "image 2"]
    assert "conv2 (6×5×5)" in fig.get_suptitle()
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        plot_feature_maps(maps, maps[:, :, 0])


def test_filters_show_each_filter_on_one_symmetric_scale() -> None:
    w = np.random.default_rng(2).normal(size=(6, 1, 3, 3))
    fig = plot_filters(w, layer="conv1", max_cols=4)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert len(panels) == 6
    for k, ax in enumerate(panels):
        np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), w[k, 0])
        assert ax.images[0].get_clim() == (-np.abs(w).max(), np.abs(w).max())
        assert ax.get_title() == str(k)
    assert "conv1 filters (3×3" in fig.get_suptitle()
    rgb = plot_filters(np.random.default_rng(3).normal(size=(2, 3, 4, 4)))
    image = np.asarray(rgb.axes[0].images[0].get_array())
    assert image.shape == (4, 4, 3) and image.min() >= 0 and image.max() <= 1


def test_layer_selection_from_an_activations_file() -> None:
    acts = {"inputs": np.zeros((8, 1, 4, 4)), "conv1": np.zeros((8, 2, 4, 4)),
            "fc1": np.zeros((8, 10)), "weights/conv1": np.zeros((2, 1, 3, 3))}
    assert feature_map_layers(acts) == ["conv1"]
    assert filter_keys(acts) == ["weights/conv1"]


def test_colour_inputs_stay_in_colour() -> None:
    rng = np.random.default_rng(4)
    inputs = rng.random((2, 3, 8, 8))
    mosaic, (th, tw) = feature_mosaic(inputs, rng.random((2, 4, 4, 4)), [1], gap=1)
    x = np.moveaxis(inputs[0], 0, -1)
    np.testing.assert_allclose(mosaic[:8, :8], (x - x.min()) / (x.max() - x.min()))
    assert (th, tw) == (8, 8) and mosaic.shape == (17, 17, 3)
    flat, _ = feature_mosaic(rng.random((2, 16)), rng.random((2, 2, 4, 4)), [0])
    assert flat.shape[:2] == (2 * 6 - 2, 2 * 6 - 2)  # 16 features drawn as 4x4
