"""examples/mnist_cnn.py (report 001's training script on deepgrad) runs and learns."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import deepgrad

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mnist_cnn.py"


def test_mnist_example_loss_goes_down(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mnist_cnn_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ckpt = tmp_path / "cnn.safetensors"
    result = module.main(["--data", "sample", "--train-size", "300", "--test-size", "100",
                          "--batch-size", "20", "--log-every", "5", "--save", str(ckpt)])
    out = capsys.readouterr().out
    assert "Total params: 3,274,634" in out
    assert result["last_loss"] < 0.8 * result["first_loss"]
    assert result["accuracy"] > 0.3
    saved = deepgrad.load(ckpt)
    model = module.CNN()
    model.load_state_dict(saved["model"])
    assert list(saved["optimizer"]["state"]) == list(range(8))
    np.testing.assert_array_equal(model.fc2.bias.data.numpy(), saved["model"]["fc2.bias"])
