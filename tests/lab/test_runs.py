"""The run folder a fit writes holds what docs/run-folder.md promises, and reads back."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.optim as optim
from deepgrad import lab
from deepgrad.atomic import atomic_write_bytes
from deepgrad.data import ArrayDataset
from deepgrad.data import transforms as T
from deepgrad.data.datasets.toy import make_moons
from deepgrad.lab.runs import create_run_dir, read_jsonl, write_json

BINS = 30


def _moons_run(root: Path, **kwargs: Any) -> tuple[lab.History, Path]:
    X, y = make_moons(120, noise=0.1, random_state=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 2))
    config = {"name": "moons-mlp", "model": {"name": "mlp", "hidden": 16}, "epochs": 3}
    history = lab.fit(model, (X[:80], y[:80]), (X[80:100], y[80:100]), loss="cross_entropy",
                      optimizer=optim.Adam(model.parameters(), lr=0.02), epochs=3,
                      batch_size=16, seed=0, runs_root=root, name="moons-mlp", config=config,
                      test_data=(X[100:], y[100:]), log_every_steps=2, verbose=0, **kwargs)
    assert history.run_dir is not None
    return history, Path(history.run_dir)


def test_moons_run_folder_has_every_file_of_the_contract(tmp_path: Path) -> None:
    history, folder = _moons_run(tmp_path)
    assert folder.parent == tmp_path
    assert re.fullmatch(r"moons-mlp-\d{8}-\d{6}", folder.name)
    names = {p.name for p in folder.iterdir()}
    assert names >= {"config.yaml", "metrics.jsonl", "summary.json", "checkpoints",
                     "predictions.npz", "activations.npz", "histograms.npz", "boundary.npz",
                     "graph.dot", "model.txt", "tb"}
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind

    run = lab.load_run(folder)
    assert run.config == {"name": "moons-mlp", "model": {"name": "mlp", "hidden": 16},
                          "epochs": 3}
    # metrics.jsonl: steps every 2, epochs, test
    assert [r["step"] for r in run.steps] == list(range(2, 16, 2))
    assert all({"kind", "epoch", "step", "loss", "lr", "time", "accuracy"} <= set(r)
               for r in run.steps)
    assert [r["epoch"] for r in run.epochs] == [1, 2, 3]
    for record in run.epochs:
        assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time",
                "samples_per_sec"} <= set(record)
    assert run.column("val_loss") == pytest.approx(history["val_loss"])
    assert run.test["test_accuracy"] == pytest.approx(history.test["test_accuracy"])
    # summary.json
    summary = run.summary
    assert summary["status"] == "completed" and summary["error"] is None
    assert summary["name"] == "moons-mlp" and summary["model"] == "mlp"
    assert summary["epochs_completed"] == 3 and summary["task"] == "classification"
    assert summary["params"] == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
    assert summary["final"]["test_accuracy"] == pytest.approx(history.test["test_accuracy"])
    assert summary["best"]["monitor"] == "val_loss"
    assert summary["best"]["value"] == pytest.approx(min(history["val_loss"]))
    assert set(summary["versions"]) == {"deepgrad", "numpy", "python"}
    assert set(summary["machine"]) == {"platform", "processor", "cpus"}
    assert summary["wall_time"] > 0 and summary["samples_per_sec"] > 0
    assert set(run.checkpoints) == {"best", "last"}
    assert run.status == "completed"


def test_moons_npz_files(tmp_path: Path) -> None:
    _, folder = _moons_run(tmp_path)
    run = lab.load_run(folder)
    pred = run.predictions
    assert pred is not None
    assert pred["probs"].shape == (20, 2) and pred["probs"].dtype == np.float32
    np.testing.assert_allclose(pred["probs"].sum(axis=1), 1, rtol=1e-5)
    assert pred["targets"].dtype == np.int64 and pred["preds"].dtype == np.int64
    np.testing.assert_array_equal(pred["preds"], pred["probs"].argmax(axis=1))
    assert list(pred["class_names"]) == ["0", "1"]
    assert "gallery_images" not in pred  # 2-D points are no images

    act = run.activations
    assert act is not None
    assert act["inputs"].shape == (8, 2)
    assert {k: v.shape for k, v in act.items() if k != "inputs"} == {
        "0": (8, 16), "1": (8, 16), "2": (8, 16), "3": (8, 16), "4": (8, 2)}
    np.testing.assert_array_equal(act["1"], np.maximum(act["0"], 0))

    hist = run.histograms
    assert hist is not None
    np.testing.assert_array_equal(hist["steps"], [5, 10, 15])
    for key in ("weight/0.weight", "grad/0.weight", "weight/4.bias", "act/0", "act/3"):
        assert hist[f"{key}/counts"].shape == (3, BINS)
        assert hist[f"{key}/edges"].shape == (3, BINS + 1)
        assert hist[f"{key}/stats"].shape == (3, 4)
    assert hist["act/1/dead_frac"].shape == (3,) and "act/0/dead_frac" not in hist
    assert hist["act/3/saturated_frac"].shape == (3,)
    assert (hist["weight/0.weight/counts"].sum(axis=1) == 32).all()  # 2 x 16 weights
    last = lab.load_run(folder).checkpoints["last"]
    w = np.asarray(deepgrad.load(last)["model"]["0.weight"])
    np.testing.assert_allclose(hist["weight/0.weight/stats"][-1],
                               [w.mean(), w.std(), w.min(), w.max()], rtol=1e-5)

    boundary = run.boundary
    assert boundary is not None
    np.testing.assert_array_equal(boundary["epochs"], [0, 1, 2, 3])
    assert boundary["probs"].shape == (4, 100, 100, 2)
    assert boundary["xx"].shape == (100,) and boundary["yy"].shape == (100,)
    assert boundary["points"].shape == (80, 2) and boundary["labels"].shape == (80,)
    assert run.graph_dot is not None and run.graph_dot.lstrip().startswith("digraph")
    assert run.model_txt is not None and "Linear" in run.model_txt


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.integers(0, 60, size=(n, 8, 8)).astype(np.uint8)
    for k in range(3):  # class k has a bright row k
        x[y == k, 2 * k] = 250
    return x, y


@T.Lambda  # a function of one sample (8, 8), as a torch transform
def _to_float(image: np.ndarray) -> np.ndarray:
    return image[None].astype(np.float32) / 255.0


def test_image_classifier_writes_gallery_filters_and_class_names(tmp_path: Path) -> None:
    train, test = ArrayDataset(*_images(96, 0), transform=_to_float), ArrayDataset(
        *_images(40, 1), transform=_to_float)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 3))
    lab.fit(model, train, loss="cross_entropy", optimizer=optim.Adam(model.parameters(),
            lr=0.01), epochs=2, batch_size=32, run_dir=tmp_path / "cnn", test_data=test,
            class_names=["top", "middle", "bottom"], verbose=0)
    run = lab.load_run(tmp_path / "cnn")
    pred = run.predictions
    assert pred is not None
    assert list(pred["class_names"]) == ["top", "middle", "bottom"]
    index, images = pred["gallery_index"], pred["gallery_images"]
    assert images.dtype == np.uint8 and images.shape == (len(index), 8, 8)
    np.testing.assert_array_equal(images, test.data[index])  # the raw pixels, no dataset needed
    wrong = pred["preds"][index] != pred["targets"][index]
    assert wrong.sum() == (pred["preds"] != pred["targets"]).sum()  # < 64 wrong: all of them
    assert not wrong[wrong.sum():].any()  # wrong ones first, then the unsure right ones
    act = run.activations
    assert act is not None
    assert act["inputs"].shape == (8, 1, 8, 8)
    assert act["0"].shape == (8, 4, 8, 8) and act["2"].shape == (8, 4, 4, 4)
    assert act["weights/0"].shape == (4, 1, 3, 3)
    np.testing.assert_array_equal(act["weights/0"], model.state_dict()["0.weight"])


def test_autoencoder_writes_clean_noisy_recon(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clean = rng.random((40, 16)).astype(np.float32)
    noisy = np.clip(clean + 0.1 * rng.normal(size=clean.shape), 0, 1).astype(np.float32)
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 16), nn.Sigmoid())
    history = lab.fit(model, (noisy, clean), loss="mse", optimizer=optim.Adam(
        model.parameters(), lr=0.01), epochs=2, batch_size=8, run_dir=tmp_path / "ae",
        test_data=(noisy, clean), verbose=0)
    assert lab.load_run(tmp_path / "ae").summary["task"] == "autoencoder"
    pred = lab.load_run(tmp_path / "ae").predictions
    assert pred is not None
    assert set(pred) == {"clean", "noisy", "recon", "mse", "psnr"}
    assert pred["clean"].shape == pred["noisy"].shape == pred["recon"].shape == (16, 4, 4)
    np.testing.assert_allclose(pred["clean"], clean[:16].reshape(16, 4, 4))
    np.testing.assert_allclose(pred["noisy"], noisy[:16].reshape(16, 4, 4))
    expected = ((pred["recon"] - pred["clean"]) ** 2).reshape(16, -1).mean(axis=1)
    np.testing.assert_allclose(pred["mse"], expected, rtol=1e-4)
    np.testing.assert_allclose(pred["psnr"], 10 * np.log10(1 / expected), rtol=1e-4)
    assert history.test["test_psnr"] == pytest.approx(
        float(lab.metrics.psnr(lab.predict(model, noisy), clean)), rel=1e-5)


def test_list_runs_orders_by_timestamp_and_skips_other_folders(tmp_path: Path) -> None:
    (tmp_path / "zeta-20240101-120000").mkdir()
    write_json(tmp_path / "zeta-20240101-120000" / "summary.json", {"status": "completed"})
    (tmp_path / "alpha-20240102-090000").mkdir()
    (tmp_path / "alpha-20240102-090000" / "metrics.jsonl").write_text("")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "file.txt").write_text("x")
    runs = lab.list_runs(tmp_path)
    assert [r.name for r in runs] == ["zeta-20240101-120000", "alpha-20240102-090000"]
    assert runs[0].status == "completed" and runs[1].status == "unknown"
    assert lab.list_runs(tmp_path / "missing") == []
    with pytest.raises(FileNotFoundError, match="not a folder"):
        lab.load_run(tmp_path / "missing")


def test_create_run_dir_never_reuses_a_folder(tmp_path: Path) -> None:
    first = create_run_dir(tmp_path, "a b/c")
    second = create_run_dir(tmp_path, "a b/c")
    assert first != second and first.name.startswith("a_b_c-")
    assert first.is_dir() and second.is_dir()


def test_metrics_reader_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"kind": "step", "step": 1}\n{"kind": "step", "st')
    assert read_jsonl(path) == [{"kind": "step", "step": 1}]


def test_atomic_writes_leave_the_old_file_whole_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, {"status": "running", "loss": float("nan")})
    assert json.loads(path.read_text()) == {"status": "running", "loss": None}

    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text())["status"] == "running"
    atomic_write_bytes(path, b"{}")
    assert path.read_text() == "{}" and (os.stat(path).st_mode & 0o777) != 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_failed_run_says_so_in_summary(tmp_path: Path) -> None:
    X, y = make_moons(32, random_state=0)
    model = nn.Sequential(nn.Linear(3, 2))  # wrong input size: the forward raises
    with pytest.raises(RuntimeError):
        lab.fit(model, (X, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
                0.1), epochs=1, run_dir=tmp_path / "bad", verbose=0)
    summary = lab.load_run(tmp_path / "bad").summary
    assert summary["status"] == "failed" and "does not fit the data" in summary["error"]
    assert "expected input with 3 features" in summary["error"]
