"""``--reuse``: a trial another sweep already trained is copied in, and is what training gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sweep_helpers import moons

import deepgrad
from deepgrad.lab.sweep import SweepError, run_sweep
from deepgrad.lab.sweep.reuse import REUSED_FILE


def run_quiet(path: Path, out: Path, **kwargs: Any) -> tuple[Any, str]:
    """The sweep's result and everything it said."""
    messages: list[str] = []
    result = run_sweep(path, out=out, progress=False, report=False, log=messages.append, **kwargs)
    return result, "\n".join(messages)


def _weights(run_dir: Path) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in
            deepgrad.load(run_dir / "checkpoints" / "last.safetensors")["model"].items()}


@pytest.fixture
def first(write_sweep: Any, tmp_path: Path) -> Path:
    """A finished sweep of two learning rates: the folder another sweep reuses from."""
    path = write_sweep({"name": "first", "base": moons(), "grid": {"optimizer.lr": [0.05, 0.01]}},
                       "first.yaml")
    assert run_quiet(path, tmp_path / "sweeps" / "first")[0].ok
    return tmp_path / "sweeps" / "first"


def _second(write_sweep: Any) -> Path:
    # lr 0.01 is the first sweep's second trial; logged differently, which does not count
    logging = {"tensorboard": False, "histograms_every": 0, "checkpoint_every": 0, "log_every": 3}
    return write_sweep({"name": "second", "base": moons(logging=logging),
                        "list": [{"name": "shared", "optimizer.lr": 0.01},
                                 {"name": "own", "model.hidden": 4}]}, "second.yaml")


def test_a_shared_trial_is_copied_in_and_equals_training_it(write_sweep: Any, tmp_path: Path,
                                                           first: Path) -> None:
    second = _second(write_sweep)
    reused, said = run_quiet(second, tmp_path / "sweeps" / "second", reuse=[first])
    assert reused.ok and reused.counts["completed"] == 2
    (source,) = (first / "runs").glob("001-lr_0.01-s0-*")
    assert f"000-shared-s0: the same training as {source}, copied in" in said
    shared_dir = reused.sweep_dir / reused.rows[0]["run_dir"]
    assert json.loads((shared_dir / REUSED_FILE).read_text())["source"] == str(source.resolve())
    own_dir = reused.sweep_dir / reused.rows[1]["run_dir"]
    assert not (own_dir / REUSED_FILE).exists()  # trained: no run of the first sweep fits

    # the premise: training the shared trial here gives exactly the copied run
    trained, said = run_quiet(second, tmp_path / "sweeps" / "second-trained")
    assert "copied in" not in said
    assert trained.rows[0]["final"] == reused.rows[0]["final"]
    trained_dir = trained.sweep_dir / trained.rows[0]["run_dir"]
    for key, value in _weights(trained_dir).items():
        np.testing.assert_array_equal(_weights(shared_dir)[key], value, err_msg=key)

    # resuming the sweep copies nothing again
    again, said = run_quiet(second, tmp_path / "sweeps" / "second", reuse=[first])
    assert "copied in" not in said and "2 already finished" in said
    assert len(list((again.sweep_dir / "runs").iterdir())) == 2


def test_only_completed_runs_of_the_same_training_are_reused(write_sweep: Any, tmp_path: Path,
                                                            first: Path) -> None:
    (source,) = (first / "runs").glob("001-lr_0.01-s0-*")
    summary = json.loads((source / "summary.json").read_text())
    (source / "summary.json").write_text(json.dumps({**summary, "status": "stopped"}))
    result, said = run_quiet(_second(write_sweep), tmp_path / "sweeps" / "second", reuse=[first])
    assert result.ok and "copied in" not in said

    other_data = write_sweep({"name": "third", "base": moons(), "seeds": [0],
                              "list": [{"name": "more-data", "optimizer.lr": 0.05,
                                        "data.options.n_samples": 300}]}, "third.yaml")
    result, said = run_quiet(other_data, tmp_path / "sweeps" / "third", reuse=[first])
    assert result.ok and "copied in" not in said


def test_reuse_refuses_what_it_cannot_do(write_sweep: Any, tmp_path: Path) -> None:
    second = _second(write_sweep)
    with pytest.raises(SweepError, match="--reuse .*nowhere: no such folder"):
        run_quiet(second, tmp_path / "s", reuse=[tmp_path / "nowhere"])
    search = write_sweep({"name": "search", "base": moons(), "search": {
        "n_trials": 2, "metric": "val_accuracy", "direction": "maximize",
        "params": {"optimizer.lr": {"log_uniform": [1e-3, 1e-1]}}}}, "search.yaml")
    with pytest.raises(SweepError, match="Optuna search"):
        run_quiet(search, tmp_path / "s2", reuse=[tmp_path])
    command = [sys.executable, "-m", "deepgrad.cli", "sweep", str(second), "--reuse",
               str(tmp_path / "nowhere"), "--out", str(tmp_path / "s3")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "no such folder" in done.stderr


def test_the_course_studies_shared_trials_are_found() -> None:
    """Defaults written out or not, ``0`` or ``0.0``: report 001's studies share these trials."""
    from deepgrad.lab.sweep import expand, load_sweep
    from deepgrad.lab.sweep.reuse import training_key

    sweeps = Path(__file__).resolve().parents[2] / "experiments" / "sweeps"

    def key(study: str, trial: str) -> str:
        (found,) = [t for t in expand(load_sweep(sweeps / f"{study}.yaml"))
                    if t.trial_id == trial]
        return training_key(found.config)

    relu = key("001-selu", "000-activation_relu-s0")
    assert key("001-pooling", "000-max-3x3-s0") == relu  # conv1_kernel: 3 is the default
    assert key("001-l2", "001-weight_decay_0.001-s0") == relu
    assert key("001-l2", "000-weight_decay_0-s0") == key(
        "001-augmentation", "003-flip-grayscale-normalise-s0")  # weight_decay 0 = none given
    assert key("001-l2", "000-weight_decay_0-s0") != relu
    assert key("001-selu", "001-activation_selu-s0") != relu
