"""The reports' studies in experiments/sweeps/: every file validates, and runs in --quick mode.

The quick runs are shrunk further here (one epoch on 64 images per trial) so
that every variant of a study is built and trained once. CI runs one study per
report; set DEEPGRAD_ALL_STUDIES=1 to run all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import in_ci

from deepgrad.lab.sweep import expand, load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = sorted((ROOT / "experiments" / "sweeps").glob("*.yaml"))
# one study per report, the cheapest: what CI runs in quick mode
CI_STUDIES = {"000-optimizers", "001-kernel-size", "002-activation", "003-denoising",
              "004-mnist-cnn"}
FULL_DATA = ("cifar10", "mnist", "fashion-mnist")


def test_there_is_a_study_file_per_report() -> None:
    reports = {p.name[:3] for p in SWEEPS}
    assert reports == {"000", "001", "002", "003", "004"}
    assert {p.stem for p in SWEEPS} >= CI_STUDIES


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_study_file_validates(path: Path) -> None:
    full = load_sweep(path)
    quick = load_sweep(path, profile="quick")
    assert full.name == path.stem and full.report == path.name[:3]
    assert full.description and len(expand(full)) >= 2
    assert 1 <= len(expand(quick)) <= len(expand(full))
    # quick profiles stay quick: few epochs, and the image sets cut to a subset or the sample
    for trial in expand(quick):
        config = trial.config
        assert config["epochs"] <= 40
        data = config["data"]
        if data["name"] in FULL_DATA:
            assert data["subset"] is not None and data["subset"] <= 5000
    readme = (ROOT / "experiments" / "README.md").read_text()
    assert f"sweeps/{path.name}" in readme  # each study has its section and command


def _needs_full_data(spec: Any) -> bool:
    return any(t.config["data"]["name"] in FULL_DATA for t in expand(spec))


def _data_available(name: str) -> bool:
    root = Path(os.environ.get("DEEPGRAD_DATA", "~/.cache/deepgrad/datasets")).expanduser()
    return (root / "cifar10-jpeg.tar.gz").exists() if name == "cifar10" else (root / name).is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_study_runs_in_quick_mode(path: Path, tmp_path: Path) -> None:
    if path.stem not in CI_STUDIES and not os.environ.get("DEEPGRAD_ALL_STUDIES"):
        pytest.skip("one study per report runs by default; DEEPGRAD_ALL_STUDIES=1 runs all")
    quick = load_sweep(path, profile="quick")
    names = {t.config["data"]["name"] for t in expand(quick)}
    missing = [n for n in names if n in FULL_DATA and not _data_available(n)]
    if missing:
        if in_ci():
            pytest.fail(f"{path.stem} needs {missing}; CI must point DEEPGRAD_DATA at them")
        pytest.skip(f"{path.stem} needs the full {missing} data ($DEEPGRAD_DATA)")
    shrink: dict[str, Any] = {"epochs": 1, "data.subset": 64, "data.test_subset": 64}
    val = quick.base["data"].get("val_split", 0)
    if val >= 1:
        shrink["data.val_split"] = 64
    result = run_sweep(path, out=tmp_path / "sweep", quick=True, overrides=shrink, workers=2,
                       progress=False, report=False, log=lambda text: None)
    failed = [(r["trial"], r["error"]) for r in result.rows if r["status"] != "completed"]
    assert not failed
    assert len(result.rows) == len(expand(quick))
    assert all(r["final"].get(quick.metric) is not None for r in result.rows), quick.metric
