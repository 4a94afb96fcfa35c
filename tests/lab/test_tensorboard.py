"""TensorBoard event files read back with TensorBoard's own reader: tags and values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepgrad.nn as nn
import deepgrad.optim as optim
from deepgrad import lab

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")


def _read(folder: Path) -> event_accumulator.EventAccumulator:
    acc = event_accumulator.EventAccumulator(
        str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.random((n, 1, 6, 6)).astype(np.float32)
    x[y == 1, :, :, :3] += 1.0
    return x, y


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[lab.History, Path, nn.Module]:
    folder = tmp_path_factory.mktemp("tb") / "run"
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
    history = lab.fit(model, _images(48, 0), _images(16, 1), loss="cross_entropy",
                      optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=3, batch_size=12,
                      test_data=_images(16, 2), run_dir=folder, log_every_steps=2, seed=0,
                      verbose=0)
    return history, folder, model


def test_epoch_scalars_match_the_history(run: tuple[lab.History, Path, nn.Module]) -> None:
    history, folder, _ = run
    acc = _read(folder / "tb")
    scalars = set(acc.Tags()["scalars"])
    assert {"train/loss", "train/accuracy", "val/loss", "val/accuracy", "lr",
            "train/batch_loss", "test/loss", "test/accuracy"} <= scalars
    for tag, key in (("train/loss", "train_loss"), ("val/loss", "val_loss"),
                     ("val/accuracy", "val_accuracy"), ("lr", "lr")):
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [4, 8, 12]  # the global step at each epoch end
        np.testing.assert_allclose([e.value for e in events], history[key], rtol=1e-6)
    batch = acc.Scalars("train/batch_loss")
    assert [e.step for e in batch] == list(range(2, 13, 2))
    step_records = {r["step"]: r["loss"] for r in lab.load_run(folder).steps}
    np.testing.assert_allclose([e.value for e in batch], [step_records[e.step] for e in batch],
                               rtol=1e-6)
    assert acc.Scalars("test/accuracy")[0].value == pytest.approx(
        history.test["test_accuracy"], rel=1e-6)


def test_histograms_and_layer_stats(run: tuple[lab.History, Path, nn.Module]) -> None:
    _, folder, model = run
    acc = _read(folder / "tb")
    histograms = set(acc.Tags()["histograms"])
    params = [name for name, _ in model.named_parameters()]
    assert {f"weights/{p}" for p in params} <= histograms
    assert {f"grads/{p}" for p in params} <= histograms
    assert {"activations/0", "activations/1", "activations/2", "activations/3"} <= histograms
    last = acc.Histograms("weights/3.weight")[-1]
    weight = model.state_dict()["3.weight"]
    assert last.step == 12
    assert last.histogram_value.num == weight.numel()
    assert last.histogram_value.min == pytest.approx(float(weight.min()), rel=1e-6)
    assert last.histogram_value.max == pytest.approx(float(weight.max()), rel=1e-6)
    assert sum(last.histogram_value.bucket) == weight.numel()
    # report 004's summaries: mean/std/min/max per layer, the same numbers as histograms.npz
    hist = lab.load_run(folder).histograms
    assert hist is not None
    for name, key in (("3.weight", "weight/3.weight"), ("1", "act/1")):
        for i, stat in enumerate(("mean", "std", "min", "max")):
            events = acc.Scalars(f"stats/{name}/{stat}")
            assert [e.step for e in events] == [4, 8, 12]
            np.testing.assert_allclose([e.value for e in events], hist[f"{key}/stats"][:, i],
                                       rtol=1e-5, atol=1e-7)
    mean = acc.Scalars("stats/3.weight/mean")[-1].value
    assert mean == pytest.approx(float(weight.mean()), rel=1e-5, abs=1e-7)


def test_sample_images_and_graph_text(run: tuple[lab.History, Path, nn.Module]) -> None:
    _, folder, _ = run
    acc = _read(folder / "tb")
    assert "samples" in acc.Tags()["images"]
    image = acc.Images("samples")[0]
    assert image.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"
    assert "graph/text_summary" in acc.Tags()["tensors"]
    text = acc.Tensors("graph/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "digraph" in text and text.strip() != ""
    assert (folder / "graph.dot").read_text().strip().splitlines()[0] in text


def test_resume_purges_events_after_the_checkpoint(tmp_path: Path) -> None:
    x, y = _images(24, 3)
    folder = tmp_path / "run"

    def fit(epochs: int, resume: bool) -> None:
        model = nn.Sequential(nn.Flatten(), nn.Linear(36, 2))
        lab.fit(model, (x, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(),
                lr=0.1), epochs=epochs, batch_size=12, run_dir=folder, seed=0,
                checkpoint_every_epochs=1, resume=folder if resume else None, verbose=0)

    fit(3, resume=False)
    # go back to the end of epoch 1, as if the run had been killed right after it
    checkpoints = folder / "checkpoints"
    (checkpoints / "epoch-0001.safetensors").replace(checkpoints / "last.safetensors")
    fit(4, resume=True)
    files = sorted((folder / "tb").iterdir())
    assert len(files) == 2 and files[1].name.endswith(".resumed-at-2")
    events = _read(folder / "tb").Scalars("train/loss")
    assert [e.step for e in events] == [2, 4, 6, 8]
    run = lab.load_run(folder)
    assert [r["epoch"] for r in run.epochs] == [1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in events], run.column("train_loss"), rtol=1e-6)
