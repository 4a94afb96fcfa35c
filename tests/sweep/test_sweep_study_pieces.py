"""Pieces the reports' studies need outside the sweep package (added for them, tested here).

Report 000's studies use truncated-normal and zero inits and an MLP with batch
norm; report 001's augmentation study uses RandomGrayscale.
"""

from __future__ import annotations

import numpy as np

import deepgrad as dg
from deepgrad import nn
from deepgrad.data import transforms as T
from deepgrad.lab.zoo import count_parameters, get_model
from deepgrad.lab.zoo.common import init_linear


def test_truncated_normal_and_zero_inits() -> None:
    layer = nn.Linear(400, 300)
    init_linear(layer, "truncated_normal", std=0.1)
    w = layer.weight.data.numpy()
    assert np.abs(w).max() <= 0.2 + 1e-7  # nothing beyond two standard deviations
    assert 0.07 < w.std() < 0.1  # a truncated normal is narrower than its std
    assert np.all(layer.bias.data.numpy() == 0)
    init_linear(layer, "zeros")
    assert np.all(layer.weight.data.numpy() == 0)


def test_mlp_batch_norm_sits_between_linear_and_activation() -> None:
    model = get_model("mlp", widths=[6, 4, 3, 2], batch_norm=True)
    names = [name for name, _ in model.named_children()]
    assert names[:4] == ["flatten", "fc1", "bn1", "act1"] and "bn3" not in names
    assert count_parameters(model) == count_parameters(get_model("mlp", widths=[6, 4, 3, 2])) \
        + 2 * (4 + 3)
    out = model(dg.tensor(np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)))
    assert out.shape == (5, 2)


def test_random_grayscale_turns_about_p_of_the_images_gray() -> None:
    dg.manual_seed(0)
    x = np.random.default_rng(0).integers(0, 256, (400, 8, 8, 3), dtype=np.uint8)
    y = T.RandomGrayscale(p=0.25)(x)
    gray = np.all(y == y[..., :1], axis=(1, 2, 3))
    assert 0.15 < gray.mean() < 0.35
    assert np.array_equal(y[~gray], x[~gray])  # the others are untouched
    assert np.array_equal(y[gray], T.Grayscale(3)(x[gray]))
    floats = np.asarray(T.ToTensor()(x[:4]))
    assert np.asarray(T.RandomGrayscale(p=0.0)(floats)).tolist() == floats.tolist()
