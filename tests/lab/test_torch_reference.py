"""experiments/torch_reference.py: the config's model trained in torch on deepgrad's arrays."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from helpers import torch_or_skip

ROOT = Path(__file__).resolve().parents[2]
torch = torch_or_skip()


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("torch_reference",
                                                  ROOT / "experiments" / "torch_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cifar_or_skip() -> None:
    root = Path(os.environ.get("DEEPGRAD_DATA", "~/.cache/deepgrad/datasets")).expanduser()
    if not (root / "cifar10-jpeg.tar.gz").exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CIFAR-10 is needed; CI must point DEEPGRAD_DATA at it")
        pytest.skip("needs the CIFAR-10 copy ($DEEPGRAD_DATA)")


@pytest.mark.parametrize("model, kwargs", [("lenet5", {}), ("lenet5", {"pooling": "max"}),
                                           ("tutorial-cnn", {})])
def test_torch_models_match_the_zoo_layer_for_layer(model: str, kwargs: dict) -> None:
    from deepgrad.lab.zoo import get_model

    ours = get_model(model, **kwargs)
    theirs = _script().torch_model(model, kwargs)
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in theirs.parameters()]
    assert sum(p.numel() for p in theirs.parameters()) == 62_006


def test_trains_on_the_configs_split(capsys: pytest.CaptureFixture[str]) -> None:
    _cifar_or_skip()
    history = _script().main([str(ROOT / "experiments" / "lenet5.yaml"), "--set", "epochs=2",
                              "--set", "data.subset=512", "--set", "data.val_split=128",
                              "--set", "data.test_subset=128"])
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert all(0.0 <= row["val_accuracy"] <= 1.0 for row in history)
    assert capsys.readouterr().out.count('"epoch"') == 2


def test_refuses_what_it_does_not_mirror() -> None:
    with pytest.raises(SystemExit, match="no torch version of model 'mlp'"):
        _script().torch_model("mlp", {})
