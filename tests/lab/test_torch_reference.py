"""experiments/torch_reference.py: the config's model trained in torch on deepgrad's arrays."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import numpy as np
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


@pytest.mark.parametrize("model, kwargs, count", [
    ("lenet5", {}, 62_006), ("lenet5", {"pooling": "max"}, 62_006),
    ("tutorial-cnn", {}, 62_006), ("cifar-cnn", {}, 537_610),
    ("cifar-cnn", {"pooling": "avg", "conv1_kernel": 5}, None)])
def test_torch_models_match_the_zoo_layer_for_layer(model: str, kwargs: dict,
                                                    count: int | None) -> None:
    from deepgrad.lab.zoo import get_model

    ours = get_model(model, **kwargs)
    theirs = _script().torch_model(model, kwargs)
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in theirs.parameters()]
    if count is not None:
        assert sum(p.numel() for p in theirs.parameters()) == count


def test_augmentation_after_equal_normalisation_is_the_same_map() -> None:
    """Flip and grayscale applied by torch to normalised arrays equal deepgrad's
    transforms applied before the normalisation."""
    from deepgrad.data import transforms as T

    script = _script()
    images = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    norm = T.Normalize(mean=[0.5] * 3, std=[0.5] * 3)
    base = torch.tensor(np.asarray(norm(T.ToTensor()(images))))
    gray_first = np.asarray(norm(T.Grayscale(3)(T.ToTensor()(images))))
    always = torch.Generator().manual_seed(0)
    np.testing.assert_allclose(script.augment(base, [("RandomGrayscale", 1.0)], always).numpy(),
                               gray_first, atol=1e-6)
    flipped = script.augment(base, [("RandomHorizontalFlip", 1.0)], always).numpy()
    np.testing.assert_array_equal(flipped, base.numpy()[..., ::-1])
    kept = script.augment(base, [("RandomHorizontalFlip", 0.0), ("RandomGrayscale", 0.0)], always)
    np.testing.assert_array_equal(kept.numpy(), base.numpy())
    steps, random = script.split_augmentation(T.Compose([
        T.ToTensor(), T.RandomHorizontalFlip(), T.RandomGrayscale(0.2), norm]))
    assert random == [("RandomHorizontalFlip", 0.5), ("RandomGrayscale", 0.2)]
    assert [type(t).__name__ for t in steps.transforms] == ["ToTensor", "Normalize"]
    with pytest.raises(SystemExit, match="same for every channel"):
        script.split_augmentation(T.Compose([T.RandomGrayscale(), T.Normalize(
            mean=[0.4, 0.5, 0.6], std=[0.2, 0.2, 0.2])]))


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


def test_mirrors_sgd_the_step_schedule_and_augmentation(
        capsys: pytest.CaptureFixture[str]) -> None:
    _cifar_or_skip()
    history = _script().main([
        str(ROOT / "experiments" / "cifar-cnn.yaml"), "--set", "epochs=2",
        "--set", "data.subset=256", "--set", "data.val_split=64", "--set", "data.test_subset=64",
        "--set", "optimizer.name=sgd", "--set", "optimizer.momentum=0.9",
        "--set", "scheduler.step_size=1"])
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(np.isfinite(row["train_loss"]) for row in history)
    capsys.readouterr()


def test_refuses_optimizers_and_schedules_it_does_not_mirror() -> None:
    from types import SimpleNamespace

    script = _script()
    config = SimpleNamespace(optimizer=SimpleNamespace(name="rmsprop", lr=0.1, kwargs={}),
                             scheduler=None)
    with pytest.raises(SystemExit, match="optimizer 'rmsprop' is not mirrored"):
        script.optimizer_and_schedule(config, [torch.zeros(1, requires_grad=True)])
    config.optimizer.name = "sgd"
    config.scheduler = SimpleNamespace(name="cosine", kwargs={})
    with pytest.raises(SystemExit, match="scheduler 'cosine' is not mirrored"):
        script.optimizer_and_schedule(config, [torch.zeros(1, requires_grad=True)])
