"""One table of names: fit, configs, sweeps, monitors and the report agree on every name.

Each test here failed before the registry: ``fit(optimizer="adam")`` raised
``TypeError: 'module' object is not callable`` (the name table came from
``dir(deepgrad.optim)`` and found the ``adam`` submodule first), configs
refused NAdam and the loss aliases fit accepts, and three copies of "is a
higher value better?" gave ``val_mae`` three answers.
"""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad.nn as nn
import deepgrad.optim as optim
from deepgrad import lab
from deepgrad.data.datasets.toy import make_moons
from deepgrad.lab import registry
from deepgrad.lab.config import ConfigError, load_config
from deepgrad.lab.history import History, resolve_mode
from deepgrad.lab.report.sections import lower_is_better
from deepgrad.lab.sweep.spec import metric_direction


def _moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(64, noise=0.1, random_state=0)
    return X.astype(np.float32), y


@pytest.mark.parametrize("name", ["adam", "Adam", "sgd", "rmsprop", "adamw", "nadam",
                                  "NAdam", "adagrad", "adadelta", "adamax"])
def test_fit_takes_every_optimizer_by_name(name: str) -> None:
    X, y = _moons()
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    history = lab.fit(model, (X, y), loss="cross_entropy", optimizer=name, epochs=1,
                      batch_size=32, seed=0, verbose=0)
    assert len(history) == 1 and np.isfinite(history["train_loss"][0])


def test_an_unknown_optimizer_name_lists_the_known_ones() -> None:
    X, y = _moons()
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'.*adam.*nadam"):
        lab.fit(model, (X, y), loss="cross_entropy", optimizer="adamm", epochs=1, verbose=0)


def test_optimizer_names_resolve_to_classes_not_modules() -> None:
    assert registry.optimizer_class("adam") is optim.Adam
    assert registry.optimizer_class("nadam") is optim.NAdam
    assert registry.scheduler_class("cosine") is optim.lr_scheduler.CosineAnnealingLR
    assert registry.scheduler_class("StepLR") is optim.lr_scheduler.StepLR


def _moons_config(**changes: object) -> dict:
    raw = {"model": "moons-net", "data": {"name": "moons"}, "epochs": 1}
    raw.update(changes)
    return raw


def test_a_config_can_choose_nadam() -> None:
    config = load_config(_moons_config(optimizer={"name": "nadam", "lr": 0.01,
                                                  "momentum_decay": 0.004}))
    assert config.optimizer.name == "nadam"
    assert config.optimizer.kwargs == {"momentum_decay": 0.004}


@pytest.mark.parametrize("alias", registry.loss_aliases())
def test_every_loss_name_fit_accepts_is_accepted_by_configs(alias: str) -> None:
    assert load_config(_moons_config(loss=alias)).loss.name == alias
    fn, name = registry.loss_function(alias)
    assert name in registry.LOSSES and callable(fn)


def test_an_unknown_loss_in_a_config_names_the_key_and_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"loss.name: unknown loss 'crossentropyy'.*mse"):
        load_config(_moons_config(loss="crossentropyy"))


KEYS = {
    "val_loss": "min", "train_loss": "min", "test_loss": "min", "val_mae": "min",
    "val_mse": "min", "test_mae": "min", "val_accuracy": "max", "val_f1": "max",
    "val_f1_score": "max", "test_precision": "max", "val_recall": "max", "test_psnr": "max",
    "val_top3_accuracy": "max", "train_accuracy": "max",
}


@pytest.mark.parametrize(("key", "expected"), list(KEYS.items()))
def test_history_sweeps_and_the_report_agree_on_each_metric_direction(
        key: str, expected: str) -> None:
    assert registry.direction(key) == expected
    assert resolve_mode(key) == expected  # EarlyStopping, ModelCheckpoint, History.best
    assert metric_direction(key) == {"min": "minimize", "max": "maximize"}[expected]
    assert lower_is_better(key) is (expected == "min")  # the report's "best in bold"


def test_what_is_not_a_score_has_no_direction_in_the_report() -> None:
    for key in ("lr", "time", "samples_per_sec", "epoch"):
        assert registry.direction(key) is None
        assert lower_is_better(key) is None


def test_history_best_minimises_val_mae() -> None:
    history = History([{"epoch": 1, "val_mae": 0.5}, {"epoch": 2, "val_mae": 0.2},
                       {"epoch": 3, "val_mae": 0.9}])
    best = history.best("val_mae")
    assert best is not None and best["epoch"] == 2


def test_a_registered_metric_is_usable_by_name_with_its_direction() -> None:
    def worst_error(output: object, target: object) -> float:
        return float(np.max(np.abs(np.asarray(output).ravel() - np.asarray(target).ravel())))

    registry.register_metric("worst_error_test", worst_error, "min")
    try:
        assert registry.direction("val_worst_error_test") == "min"
        assert registry.metric("worst_error_test").fn is worst_error
        config = load_config(_moons_config(metrics=["worst_error_test"]))
        assert config.metrics == ["worst_error_test"]
    finally:
        del registry.METRICS["worst_error_test"]
    with pytest.raises(ValueError, match="direction must be 'min' or 'max'"):
        registry.register_metric("x", worst_error, "up")  # type: ignore[arg-type]
