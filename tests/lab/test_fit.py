"""fit / evaluate / predict on toy data: the loss falls, moons are learnt, the API is Keras'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
import deepgrad.optim as optim
from deepgrad import lab
from deepgrad.data import DataLoader, TensorDataset
from deepgrad.data.datasets.toy import make_moons


def _moons(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n, noise=0.1, random_state=seed)
    return X.astype(np.float32), y


def _mlp(out: int = 2, dropout: float = 0.0) -> nn.Module:
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, out))


def test_moons_loss_falls_and_accuracy_reaches_97_percent() -> None:
    X, y = _moons(500)
    model = _mlp()
    history = lab.fit(model, (X[:400], y[:400]), (X[400:], y[400:]), loss="cross_entropy",
                      optimizer=optim.Adam(model.parameters(), lr=0.02), epochs=25,
                      batch_size=32, seed=0, verbose=0)
    losses = history["train_loss"]
    assert len(history) == 25 and losses[-1] < losses[0] / 4
    assert history["val_accuracy"][-1] >= 0.97
    result = lab.evaluate(model, (X[400:], y[400:]))
    assert result["accuracy"] >= 0.97
    assert result["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)


def test_history_records_every_key_of_the_contract() -> None:
    X, y = _moons(96)
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = lab.fit(model, (X[:64], y[:64]), (X[64:], y[64:]), loss="cross_entropy",
                      optimizer=opt, scheduler=sched, epochs=3, batch_size=16,
                      metrics=["accuracy", "f1"], verbose=0)
    first = history.epochs[0]
    assert list(first)[:2] == ["epoch", "step"]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_f1", "lr",
                "time", "samples_per_sec"):
        assert key in first, key
    assert "train_f1" not in first  # F1 needs the whole split, so only on evaluation
    assert [r["epoch"] for r in history.epochs] == [1, 2, 3]
    assert [r["step"] for r in history.epochs] == [4, 8, 12]
    # the lr logged is the one the epoch trained with (the scheduler steps after it)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)
    assert history["loss"] == history["train_loss"]
    assert history.history["val_loss"] == history["val_loss"]
    best = history.best("val_loss")
    assert best is not None and best["val_loss"] == min(history["val_loss"])
    assert history.status == "completed" and history.run_dir is None
    assert first["samples_per_sec"] > 0


def test_data_as_arrays_dataset_or_loader_give_the_same_run() -> None:
    X, y = _moons(64)
    results = []
    for make in (lambda: (X, y), lambda: TensorDataset(X, y)):
        deepgrad.manual_seed(1)
        model = _mlp(dropout=0.2)
        lab.fit(model, make(), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
                lr=0.1), epochs=2, batch_size=16, seed=5, verbose=0)
        results.append(model.state_dict()["0.weight"].clone())
    np.testing.assert_array_equal(results[0], results[1])
    # a DataLoader is used as given
    deepgrad.manual_seed(1)
    model = _mlp()
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, generator=3)
    history = lab.fit(model, loader, loss=F.cross_entropy, optimizer=lambda p: optim.SGD(p, 0.1),
                      epochs=1, batch_size=999, verbose=0)
    assert history.epochs[0]["step"] == 8  # the loader's batch size, not batch_size=999


def test_the_same_seed_gives_the_same_weights_bit_for_bit() -> None:
    X, y = _moons(64)
    weights = []
    for _ in range(2):
        deepgrad.manual_seed(7)
        model = _mlp(dropout=0.3)
        lab.fit(model, (X, y), loss="cross_entropy", optimizer=optim.Adam(model.parameters()),
                epochs=2, batch_size=8, seed=11, verbose=0)
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    for key in weights[0]:
        assert np.array_equal(weights[0][key], weights[1][key])


def test_without_run_dir_nothing_is_written(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    X, y = _moons(32)
    model = _mlp()
    lab.fit(model, (X, y), (X, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
            lr=0.1), epochs=1, batch_size=8, test_data=(X, y), verbose=0)
    assert list(tmp_path.iterdir()) == []


def test_predict_gives_eval_mode_outputs() -> None:
    X, y = _moons(40)
    model = _mlp(dropout=0.5)
    out = lab.predict(model, X, batch_size=16)
    assert out.shape == (40, 2)
    model.eval()
    with deepgrad.no_grad():
        expected = model(deepgrad.tensor(X)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    model.train()
    np.testing.assert_allclose(lab.predict(model, (X, y)), expected, rtol=1e-6, atol=1e-6)
    assert model.training  # predict restores the mode


def test_evaluate_matches_a_hand_written_loop() -> None:
    X, y = _moons(50)
    model = _mlp()
    result = lab.evaluate(model, (X, y), metrics=["accuracy", "f1"], batch_size=16)
    with deepgrad.no_grad():
        logits = model(deepgrad.tensor(X))
        loss = F.cross_entropy(logits, deepgrad.tensor(y)).item()
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    assert result["accuracy"] == pytest.approx(lab.metrics.accuracy(logits, y))
    assert result["f1"] == pytest.approx(lab.metrics.f1_score(logits, y))


def test_binary_logit_with_bce_learns_moons() -> None:
    X, y = _moons(300)
    model = _mlp(out=1)
    history = lab.fit(model, (X[:240], y[:240]), (X[240:], y[240:]), loss="bce_with_logits",
                      optimizer=optim.Adam(model.parameters(), lr=0.03), epochs=20,
                      batch_size=32, seed=0, verbose=0)
    assert history["val_accuracy"][-1] >= 0.95


def test_autoencoder_task_is_inferred_and_psnr_reported() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((64, 8)).astype(np.float32)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 8))
    trainer_history = lab.fit(model, X, X, loss="mse", optimizer=optim.Adam(model.parameters(),
                              lr=0.01), epochs=5, batch_size=16, verbose=0)
    assert "val_psnr" in trainer_history.last and "train_psnr" in trainer_history.last
    assert trainer_history["val_loss"][-1] < trainer_history["val_loss"][0]


def test_bad_arguments_are_named() -> None:
    X, y = _moons(16)
    model = _mlp()
    with pytest.raises(ValueError, match="unknown loss"):
        lab.fit(model, (X, y), loss="hinge2", optimizer=optim.SGD(model.parameters(), 0.1),
                epochs=1, verbose=0)
    with pytest.raises(TypeError, match="train_data"):
        lab.fit(model, 42, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), 0.1),
                epochs=1, verbose=0)
    with pytest.raises(FileNotFoundError, match="resume"):
        lab.fit(model, (X, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
                0.1), epochs=1, resume="/nonexistent/run", verbose=0)


def test_progress_quiet_off_a_terminal_and_lines_or_bars_on_request(
        capsys: pytest.CaptureFixture[str]) -> None:
    from deepgrad.lab.progress import ProgressBar

    X, y = _moons(32)

    def run(verbose: int | None, callbacks: list[Any] = ()) -> str:  # type: ignore[assignment]
        model = _mlp()
        lab.fit(model, (X, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
                lr=0.1), epochs=2, batch_size=8, verbose=verbose, callbacks=list(callbacks))
        return capsys.readouterr().err

    assert run(None) == ""  # stderr is not a terminal under pytest
    assert run(0) == ""
    lines = run(2).strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2 train_loss=")
    bar = ProgressBar(0)
    bar.verbose = 1  # as on a terminal
    bar.refresh_secs = 0.0
    text = run(0, [bar])
    assert "epoch 1/2" in text and "samples/s" in text and "loss=" in text


def test_regression_with_flat_targets_does_not_broadcast() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.3  # (N,) targets, (N, 1) outputs
    model = nn.Linear(3, 1)
    history = lab.fit(model, (X, y), (X, y), loss="mse", optimizer=optim.SGD(
        model.parameters(), lr=0.1), epochs=30, batch_size=16, verbose=0)
    assert "val_mae" in history.last  # the regression default
    assert history["val_loss"][-1] < 1e-3
    np.testing.assert_allclose(model.weight.data.numpy().ravel(), [1.0, -2.0, 0.5], atol=0.02)
