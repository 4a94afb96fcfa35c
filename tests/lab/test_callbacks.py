"""Each callback on a tiny model: early stopping, checkpoints, lr scheduling, NaNGuard, lambdas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.optim as optim
from deepgrad import lab
from deepgrad.autograd import Function
from deepgrad.lab.callbacks import CallbackList

X = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def _scripted(values: list[float], key: str = "score") -> lab.LambdaCallback:
    """Put ``values[epoch - 1]`` into the epoch logs as ``key``, before other callbacks see them."""

    def inject(trainer: Any, logs: dict[str, Any]) -> None:
        logs[key] = values[trainer.epoch - 1]

    callback = lab.LambdaCallback(on_epoch_end=inject)
    callback.order = -50
    return callback


def _snapshots() -> tuple[lab.LambdaCallback, list[dict[str, np.ndarray]]]:
    store: list[dict[str, np.ndarray]] = []
    callback = lab.LambdaCallback(on_epoch_end=lambda trainer, logs: store.append(
        {k: v.clone() for k, v in trainer.model.state_dict().items()}))
    return callback, store


def _fit(model: nn.Module, epochs: int, callbacks: list[Any], **kwargs: Any) -> lab.History:
    kwargs.setdefault("optimizer", optim.SGD(model.parameters(), lr=0.1))
    return lab.fit(model, (X, Y), (X, Y), loss="cross_entropy", epochs=epochs, batch_size=8,
                   callbacks=callbacks, verbose=0, **kwargs)


# ------------------------------------------------------------------ EarlyStopping
def test_early_stopping_stops_after_patience_and_restores_the_best_weights() -> None:
    model = _model()
    snap, store = _snapshots()
    stopper = lab.EarlyStopping(monitor="score", patience=2, mode="min", restore_best=True)
    history = _fit(model, 10, [_scripted([5, 4, 3, 3.5, 3.2, 1, 1, 1, 1, 1]), stopper, snap])
    assert len(history) == 5  # best at epoch 3, no better at 4 and 5 -> stop
    assert history.stopped_early_at == 5 and stopper.stopped_epoch == 5
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, store[2][key])  # epoch 3's weights are back
    assert not np.array_equal(model.state_dict()["0.weight"], store[4]["0.weight"])


def test_early_stopping_min_delta_mode_max_and_no_restore() -> None:
    model = _model()
    snap, store = _snapshots()
    stopper = lab.EarlyStopping(monitor="val_acc_like", patience=1, min_delta=0.05,
                                restore_best=False)
    assert stopper.tracker.mode == "max"  # "auto" maximises what is not a loss
    _fit(model, 10, [_scripted([0.5, 0.52, 0.9, 0.91], "val_acc_like"), stopper, snap])
    assert stopper.stopped_epoch == 2  # +0.02 is below min_delta
    np.testing.assert_array_equal(model.state_dict()["0.weight"], store[-1]["0.weight"])


def test_early_stopping_state_round_trips() -> None:
    stopper = lab.EarlyStopping(patience=3)
    stopper.tracker.best, stopper.wait = 0.25, 2
    stopper.best_weights = {"w": np.ones(3, np.float32)}
    other = lab.EarlyStopping(patience=3)
    other.load_state_dict(stopper.state_dict())
    assert other.best == 0.25 and other.wait == 2
    assert other.best_weights is not None
    np.testing.assert_array_equal(other.best_weights["w"], np.ones(3))


# ------------------------------------------------------------------ ModelCheckpoint
def test_model_checkpoint_best_last_and_every_n_epochs(tmp_path: Path) -> None:
    model = _model()
    snap, store = _snapshots()
    checkpoint = lab.ModelCheckpoint(tmp_path, monitor="score", mode="min", every_n_epochs=2)
    _fit(model, 4, [_scripted([3.0, 1.0, 2.0, 1.5]), checkpoint, snap])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best.safetensors", "epoch-0002.safetensors", "epoch-0004.safetensors",
                     "last.safetensors"]
    best = deepgrad.load(tmp_path / "best.safetensors")
    last = deepgrad.load(tmp_path / "last.safetensors")
    assert best["epoch"] == 2 and last["epoch"] == 4
    for key in store[1]:
        np.testing.assert_array_equal(best["model"][key], store[1][key])
        np.testing.assert_array_equal(last["model"][key], store[3][key])
    assert set(last) >= {"model", "optimizer", "scheduler", "epoch", "step", "loader", "rng",
                         "history"}
    assert len(last["history"]["epochs"]) == 4


def test_model_checkpoint_every_n_steps_writes_last_mid_epoch(tmp_path: Path) -> None:
    seen: dict[int, int] = {}

    def read(trainer: Any, logs: dict[str, Any]) -> None:
        path = tmp_path / "last.safetensors"
        seen[trainer.step] = deepgrad.load(path)["step"] if path.exists() else 0

    reader = lab.LambdaCallback(on_batch_end=read)
    reader.order = 200  # after the checkpoint writer
    model = _model()
    _fit(model, 1, [lab.ModelCheckpoint(tmp_path, every_n_steps=2, save_best=False), reader])
    assert seen == {1: 0, 2: 2, 3: 2, 4: 4}


def test_model_checkpoint_needs_a_folder() -> None:
    with pytest.raises(ValueError, match="dirpath"):
        _fit(_model(), 1, [lab.ModelCheckpoint()])


# ------------------------------------------------------------------ learning-rate scheduling
def test_reduce_on_plateau_watches_the_monitor() -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
    history = _fit(model, 6, [_scripted([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])], optimizer=opt,
                   scheduler=plateau, monitor="score")
    # the lr each epoch trained with: no improvement for more than `patience` epochs halves it
    assert history["lr"] == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.25])


def test_scheduler_per_step_and_a_plain_function() -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    _fit(model, 1, [], optimizer=opt, scheduler=sched, scheduler_interval="step")
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5**4)  # 4 steps in the epoch
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    history = _fit(model, 3, [lab.LearningRateScheduler(lambda epoch: 0.1 * epoch)],
                   optimizer=opt)
    assert history["lr"] == pytest.approx([1.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="interval"):
        lab.LearningRateScheduler(sched, interval="batch")


# ------------------------------------------------------------------ NaNGuard
class Explode(nn.Module):
    """Identity until ``armed``; then its output is infinite."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def forward(self, x: Any) -> Any:
        return x * float("inf") if self.armed else x


class _NaNGrad(Function):
    """A torch-style Function (it sees Tensors) whose backward poisons the gradient."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * float("nan")


class BadGrad(nn.Module):
    def forward(self, x: Any) -> Any:
        return _NaNGrad.apply(x)


def test_nan_guard_names_the_layer_whose_output_went_non_finite(tmp_path: Path) -> None:
    boom = Explode()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8))
    model.add_module("boom", boom)
    model.add_module("head", nn.Linear(8, 2))

    def arm(trainer: Any, logs: dict[str, Any]) -> None:
        if trainer.step == 5:
            boom.armed = True

    with np.errstate(all="ignore"):  # the infinities are the point here
        history = lab.fit(model, (X, Y), loss="cross_entropy",
                          optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=3,
                          batch_size=8, run_dir=tmp_path, checkpoint_every_steps=1,
                          callbacks=[lab.LambdaCallback(on_batch_end=arm)], verbose=0)
    assert history.status == "failed"
    assert history.error is not None and "'boom' (Explode)" in history.error
    assert "step 6" in history.error
    assert len(history) == 1  # epoch 2 never finished
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "failed" and "'boom' (Explode)" in summary["error"]
    last = deepgrad.load(tmp_path / "checkpoints" / "last.safetensors")
    assert last["step"] == 5  # the last good step
    assert all(np.isfinite(np.asarray(v)).all() for v in last["model"].values())
    # the bad step was skipped
    assert all(np.isfinite(p.data.numpy()).all() for p in model.parameters())


def test_nan_guard_names_the_layer_whose_gradient_went_non_finite() -> None:
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), BadGrad(), nn.Linear(8, 2))
    guard = lab.NaNGuard()
    history = lab.fit(model, (X, Y), loss="cross_entropy",
                      optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=8,
                      callbacks=[guard], verbose=0)
    assert history.status == "failed" and guard.message is not None
    assert "first layer whose gradient went non-finite is '2' (BadGrad)" in guard.message
    assert "first parameter with a non-finite gradient is '0.weight'" in guard.message
    assert "output went non-finite" not in guard.message


def test_nan_guard_blames_the_input_when_the_data_is_bad() -> None:
    bad_x = X.copy()
    bad_x[3, 1] = np.nan
    model = _model()
    history = lab.fit(model, (bad_x, Y), loss="cross_entropy",
                      optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=32,
                      verbose=0)
    assert history.error is not None and "input batch" in history.error


# ------------------------------------------------------------------ Lambda and ordering
def test_lambda_callback_hooks_run_in_loop_order() -> None:
    calls: list[str] = []
    def recorder(name: str) -> Any:
        return lambda trainer, logs: calls.append(name)

    hooks = {name: recorder(name)
             for name in ("on_train_begin", "on_epoch_begin", "on_batch_begin",
                          "on_after_backward", "on_batch_end", "on_epoch_end", "on_train_end")}
    _fit(_model(), 1, [lab.LambdaCallback(**hooks)])
    per_batch = ["on_batch_begin", "on_after_backward", "on_batch_end"]
    assert calls == ["on_train_begin", "on_epoch_begin", *per_batch * 4, "on_epoch_end",
                     "on_train_end"]
    with pytest.raises(ValueError, match="unknown hooks"):
        lab.LambdaCallback(on_epoch_finish=print)


def test_callback_list_sorts_by_order_and_keys_state() -> None:
    a, b = lab.EarlyStopping(), lab.EarlyStopping()
    checkpoint, guard = lab.ModelCheckpoint("x"), lab.NaNGuard()
    callbacks = CallbackList([checkpoint, a, guard, b])
    assert list(callbacks) == [guard, a, b, checkpoint]
    assert list(callbacks.keyed()) == ["NaNGuard", "EarlyStopping", "EarlyStopping_1",
                                       "ModelCheckpoint"]
    assert not callbacks.has("on_batch_begin") and callbacks.has("on_after_backward")
