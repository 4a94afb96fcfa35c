"""Config options that old course code's readers and losses had: a mean image subtracted
from every split (``data.subtract_mean``) and TF1's L2 term added to the loss (``loss.l2``)."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from deepgrad.data import transforms as T
from deepgrad.lab.config import ConfigError, load_config
from deepgrad.lab.experiment import build, build_loss
from deepgrad.nn import functional as F


def config(**extra: object) -> dict:
    base: dict = {"model": {"name": "mlp", "widths": [784, 16, 10]},
                  "data": {"name": "mnist-sample", "val_split": 200, "subset": 600}}
    for key, value in extra.items():
        section, _, name = key.partition("__")
        if name:
            base.setdefault(section, {})[name] = value
        else:
            base[section] = value
    return base


def _images(ds: object) -> np.ndarray:
    n = len(ds)  # type: ignore[arg-type]
    x, _ = ds.get_batch(np.arange(n))  # type: ignore[attr-defined]
    return np.asarray(x, dtype=np.float64)


def test_subtract_mean_image_centres_on_the_training_split() -> None:
    plain = build(load_config(config()))
    centred = build(load_config(config(data__subtract_mean="image")))
    raw_train, raw_val = _images(plain.train_data), _images(plain.val_data)
    mean = raw_train.mean(axis=0)  # the mean image of the training split only
    assert mean.shape == (1, 28, 28) and np.ptp(mean) > 0.5
    np.testing.assert_allclose(_images(centred.train_data), raw_train - mean, atol=1e-6)
    # held-out splits get the training split's mean, not their own
    np.testing.assert_allclose(_images(centred.val_data), raw_val - mean, atol=1e-6)
    np.testing.assert_allclose(_images(centred.test_data)[:50],
                               _images(plain.test_data)[:50] - mean, atol=1e-6)
    assert abs(_images(centred.val_data).mean(axis=0)).max() > 1e-3


def test_subtract_mean_channel_and_after_the_transforms() -> None:
    scale = {"test": [{"Normalize": {"mean": [0.0], "std": [1 / 255]}}],
             "train": [{"Normalize": {"mean": [0.0], "std": [1 / 255]}}]}
    plain = build(load_config(config(data__transforms=scale)))
    centred = build(load_config(config(data__transforms=scale, data__subtract_mean="channel")))
    raw = _images(plain.train_data)
    assert raw.max() > 200  # the 0-255 scale is kept, as the old readers did
    np.testing.assert_allclose(_images(centred.train_data), raw - raw.mean(), atol=1e-3)


@pytest.mark.parametrize("bad", ["pixel", "Image", 1])
def test_subtract_mean_refuses_unknown_modes(bad: object) -> None:
    expected = r"data.subtract_mean: expected (image, channel|a string or null)"
    with pytest.raises(ConfigError, match=expected):
        load_config(config(data__subtract_mean=bad))


def test_subtract_mean_transform_checks_shapes() -> None:
    t = T.SubtractMean(np.ones((3, 4, 4)))
    out = t(np.zeros((2, 3, 4, 4), np.float32))
    assert out.dtype == np.float32 and (out == -1).all()
    np.testing.assert_array_equal(T.SubtractMean(np.ones((3, 1, 1)))(np.ones((1, 3, 2, 2))), 0)
    with pytest.raises(ValueError, match=r"SubtractMean: a mean of shape \(3, 4, 4\) does not "
                                         r"fit samples of shape \(1, 28, 28\)"):
        t(np.zeros((2, 1, 28, 28), np.float32))
    with pytest.raises(TypeError, match="put ToTensor"):
        t(np.zeros((2, 4, 4, 3), np.uint8))


def test_l2_adds_tf1s_term_on_weights_only() -> None:
    exp = build(load_config(config(loss={"name": "cross_entropy", "l2": 0.05})))
    model, loss_fn = exp.model, exp.loss
    assert callable(loss_fn) and loss_fn.__name__ == "cross_entropy"
    x, y = exp.train_data.get_batch(np.arange(32))
    x, y = deepgrad.tensor(x), deepgrad.tensor(y)
    params = dict(model.named_parameters())

    loss = loss_fn(model(x), y)
    loss.backward()
    with_l2 = {k: p.grad.numpy().copy() for k, p in params.items()}
    model.zero_grad()
    plain = F.cross_entropy(model(x), y)
    plain.backward()

    weights = {k: p.detach().numpy().astype(np.float64) for k, p in params.items() if p.ndim >= 2}
    assert set(weights) == {k for k in params if k.endswith("weight")}
    term = 0.05 * sum((w ** 2).sum() for w in weights.values()) / 2  # tf.nn.l2_loss
    assert float(loss) == pytest.approx(float(plain) + term, rel=1e-6)
    for k, p in params.items():
        expected = p.grad.numpy() + (0.05 * p.detach().numpy() if k in weights else 0)
        np.testing.assert_allclose(with_l2[k], expected, rtol=1e-5, atol=1e-7)


def test_l2_zero_keeps_the_plain_loss_name_and_bad_values_are_refused() -> None:
    assert build_loss(load_config(config(loss={"name": "cross_entropy", "l2": 0.0}))) == \
        "cross_entropy"
    for bad in (-1.0, "big", True):
        with pytest.raises(ConfigError, match=r"loss.l2: expected a number >= 0"):
            build(load_config(config(loss={"name": "cross_entropy", "l2": bad})))
    with pytest.raises(ConfigError, match="needs the model"):
        build_loss(load_config(config(loss={"name": "cross_entropy", "l2": 0.1})))
