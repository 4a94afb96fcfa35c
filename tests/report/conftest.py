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
