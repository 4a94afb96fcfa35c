"""``deepgrad export RUN``: a real (tiny) training run, exported from its folder, gives the
trained model's outputs in onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepgrad as dg
from deepgrad.cli import main
from deepgrad.lab import zoo
from helpers import onnx_or_skip


def train(capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str, *sets: str) -> Path:
    """A real short training run; returns its run folder."""
    args = ["train", model, "--epochs", "1", "--quiet", "--out", str(tmp_path / "runs"),
            "--set", "logging.tensorboard=false"]
    code = main(args + [a for s in sets for a in ("--set", s)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return Path(out.strip().splitlines()[-1].split(":")[0])


def train_moons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return train(capsys, tmp_path, "moons-net",
                 "data.options={n_samples: 200, noise: 0.1, n_test: 100}")


def test_export_a_trained_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx, ort = onnx_or_skip()
    run_dir = train_moons(tmp_path, capsys)
    target = tmp_path / "moons.onnx"
    code = main(["export", str(run_dir), "-o", str(target)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == f"{target}: 3 nodes, opset 17, input[batch, 2] -> output[batch, 2]"
    onnx.checker.check_model(onnx.load(str(target)), full_check=True)

    # The trained weights, not a fresh model's: compare with the checkpoint loaded by hand.
    model = zoo.get_model("moons-net")
    fresh = model(dg.ones(1, 2)).detach().numpy()
    state = dg.load(run_dir / "checkpoints" / "best.safetensors")
    model.load_state_dict(state["model"] if "model" in state else state)
    model.eval()
    x = np.random.default_rng(3).standard_normal((7, 2)).astype(np.float32)
    with dg.no_grad():
        want = model(dg.tensor(x)).numpy()
    session = ort.InferenceSession(target.read_bytes(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    (one,) = session.run(None, {"input": np.ones((1, 2), np.float32)})
    assert not np.allclose(one, fresh)  # a fresh model's outputs would differ

    code = main(["export", str(run_dir), "--checkpoint", "last", "--static", "--batch", "3",
                 "--opset", "18"])
    out, err = capsys.readouterr()
    assert code == 0, err
    default = run_dir / "model.onnx"
    assert out.strip() == f"{default}: 3 nodes, opset 18, input[3, 2] -> output[3, 2]"


def test_export_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx_or_skip()
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert "deepgrad: error: " in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["export", str(tmp_path / "empty")]) == 2
    assert "not a run folder (no config.yaml)" in capsys.readouterr().err
    run_dir = train_moons(tmp_path, capsys)
    assert main(["export", str(run_dir), "--opset", "3"]) == 2
    assert "opset_version must be an int from 14" in capsys.readouterr().err
    assert main(["export", str(run_dir), "-o", str(tmp_path / "no" / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_export_a_trained_cnn_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ort = onnx_or_skip()
    run_dir = train(capsys, tmp_path, "mnist-cnn", "data.subset=64", "data.test_subset=32")
    assert main(["export", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "input[batch, 1, 28, 28] -> output[batch, 10]" in out
    model = zoo.get_model("mnist-cnn")
    state = dg.load(run_dir / "checkpoints" / "best.safetensors")  # what export takes
    model.load_state_dict(state["model"] if "model" in state else state)
    model.eval()
    x = np.random.default_rng(4).random((4, 1, 28, 28), dtype=np.float32)
    with dg.no_grad():
        want = model(dg.tensor(x)).numpy()
    session = ort.InferenceSession((run_dir / "model.onnx").read_bytes(),
                                   providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], want, rtol=0, atol=1e-5)
