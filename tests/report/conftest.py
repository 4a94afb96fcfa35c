"""Fixtures of the report tests: synthetic run folders written by hand to the contract, and
real short runs with their reports and a headless Chromium for the browser tests (trained
once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import synthetic_run
from report_page import MOONS_OPTIMIZERS

from browser import headless_chromium


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A classification run with every optional file but the decision boundary."""
    return synthetic_run.write_run(tmp_path)


@pytest.fixture
def hist() -> dict:
    return synthetic_run.histograms()


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train the runs (about 4 s of CPU) and write their reports (about 10 s)."""
    from deepgrad.lab.experiment import train
    from deepgrad.lab.report import write_report

    root = tmp_path_factory.mktemp("browser")
    quiet = ["logging.tensorboard=false", "logging.progress=false",
             "logging.checkpoint_every=0", f"logging.out={root / 'runs'}"]
    mnist = train("mnist-cnn", overrides=[
        "epochs=2", "model.channels=[6, 12]", "model.hidden=32", "batch_size=64",
        "data.subset=640", "data.val_split=128", "data.test_subset=256",
        "logging.log_every=1", *quiet])
    moons = [train("moons-net", overrides=[  # no histograms: the MNIST run has them
        "epochs=12", "model.hidden=8", f"optimizer.name={name}", f"optimizer.lr={lr}",
        "data.options={n_samples: 300, noise: 0.2, n_test: 200}",
        "logging.histograms_every=0", *quiet])
        for name, lr in MOONS_OPTIMIZERS]
    return {"single": write_report(mnist, root / "mnist.html"),
            "compare": write_report(moons, root / "moons.html"),
            "mnist_run": mnist}


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    with headless_chromium() as browser:
        yield browser


SWEEP = """\
name: lr-search
base:
  model: {name: moons-net, hidden: 4}
  data: {name: moons, val_split: 0.2, options: {n_samples: 300, noise: 0.2}}
  optimizer: {name: adam, lr: 0.05}
  loss: cross_entropy
  epochs: 5
  batch_size: 32
  logging: {tensorboard: false, histograms_every: 0, checkpoint_every: 0, progress: false}
search:
  n_trials: 8
  metric: val_accuracy
  direction: maximize
  seed: 3
  n_startup_trials: 4
  pruner: {name: median, n_startup_trials: 2, n_warmup_steps: 1}
  params:
    optimizer.lr: {log_uniform: [1.0e-4, 0.3]}
    model.hidden: [2, 4, 8]
    optimizer.name: [adam, sgd]
"""


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Optuna search of 8 two-moons trials, one process (about 25 s), with its report."""
    pytest.importorskip("optuna")
    from deepgrad.lab.sweep import run_sweep

    root = tmp_path_factory.mktemp("sweep")
    (root / "sweep.yaml").write_text(SWEEP)
    result = run_sweep(root / "sweep.yaml", out=root / "out", progress=False,
                       log=lambda text: None)
    assert result.report is not None
    return root / "out"
