"""The local backend end to end: run folders, sweep.csv, failures, resume after a kill, Ctrl-C."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import moons

from deepgrad.lab.runs import load_run
from deepgrad.lab.sweep import SweepError, read_csv, run_sweep
from deepgrad.lab.sweep.local import threads_per_worker
from deepgrad.lab.sweep.runner import _lock

HERE = Path(__file__).resolve().parent


def run_quiet(path: Path, out: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("report", False)
    return run_sweep(path, out=out, progress=False, log=lambda text: None, **kwargs)


def test_four_trials_on_two_workers(write_sweep: Any, tmp_path: Path) -> None:
    path = write_sweep({"name": "moons4", "base": moons(), "seeds": [0, 1],
                        "grid": {"model.hidden": [3, 8]}})
    out = tmp_path / "sweep"
    result = run_quiet(path, out, workers=2, report=True)
    assert result.ok and result.counts["completed"] == 4

    rows = read_csv(out / "sweep.csv")
    assert [r["trial"] for r in rows] == ["000-hidden_3-s0", "001-hidden_3-s1",
                                          "002-hidden_8-s0", "003-hidden_8-s1"]
    folders = sorted((out / "runs").iterdir())
    assert len(folders) == 4
    for row, folder in zip(rows, folders, strict=True):
        assert row["status"] == "completed" and row["epochs"] == "4"
        assert folder.name.startswith(row["trial"]) and row["run_dir"] == f"runs/{folder.name}"
        run = load_run(folder)
        assert run.status == "completed" and len(run.epochs) == 4
        assert run.config["seed"] == int(row["seed"])
        assert run.config["model"]["hidden"] == int(row["model.hidden"])
        assert float(row["val_accuracy"]) == pytest.approx(run.summary["final"]["val_accuracy"],
                                                           rel=1e-5)
        assert float(row["wall_time"]) > 0 and row["error"] == ""

    # summary.csv: mean and std over the two seeds of each variant
    summary = read_csv(out / "summary.csv")
    assert [s["variant"] for s in summary] == ["hidden=3", "hidden=8"]
    for s in summary:
        values = [float(r["val_accuracy"]) for r in rows if r["variant"] == s["variant"]]
        mean = sum(values) / 2
        std = math.sqrt(sum((v - mean) ** 2 for v in values))  # n - 1 = 1
        assert s["n"] == "2"
        assert float(s["val_accuracy_mean"]) == pytest.approx(mean, abs=1e-5)
        assert float(s["val_accuracy_std"]) == pytest.approx(std, abs=1e-5)
    assert (out / "sweep.yaml").is_file() and (out / "sweep.json").is_file()
    assert result.report is not None and result.report.is_file()
    assert (out / "metric-vs-model.hidden.png").is_file()  # one numeric setting, error bars

    # the same command again: everything is finished, nothing runs
    stamps = {f.name: (f / "summary.json").stat().st_mtime_ns for f in folders}
    again = run_quiet(path, out, workers=2)
    assert again.ok
    assert {f.name: (f / "summary.json").stat().st_mtime_ns for f in folders} == stamps


def test_failing_and_killed_trials_are_recorded_and_the_others_finish(
    write_sweep: Any, tmp_path: Path
) -> None:
    path = write_sweep({"name": "flaky", "base": moons(epochs=2),
                        "trainer": "sweep_trainers:train",
                        "grid": {"model.hidden": [5, 3, 7, 4]}})
    out = tmp_path / "sweep"
    result = run_quiet(path, out, workers=2)
    status = {r["trial"]: (r["status"], r["error"] or "") for r in read_csv(out / "sweep.csv")}
    assert status["000-hidden_5-s0"][0] == "failed"
    assert "RuntimeError: boom: hidden=5 fails on purpose" in status["000-hidden_5-s0"][1]
    assert status["002-hidden_7-s0"] == ("failed", "worker killed by SIGKILL")
    assert status["001-hidden_3-s0"] == ("completed", "")
    assert status["003-hidden_4-s0"] == ("completed", "")
    assert result.counts == {"pending": 0, "running": 0, "completed": 2, "failed": 2,
                             "pruned": 0, "interrupted": 0}
    assert not result.ok

    # re-running retries the failed trials only
    def finished() -> dict[str, int]:
        return {f.name: (f / "summary.json").stat().st_mtime_ns
                for f in (out / "runs").iterdir() if "hidden_3" in f.name or "hidden_4" in f.name}

    done = finished()
    from deepgrad.cli import main

    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--no-report"]) == 1
    assert finished() == done


def _wait_for(predicate: Any, timeout: float = 60.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the sweep")


def _rows(out: Path) -> list[dict[str, str]]:
    try:
        return read_csv(out / "sweep.csv")
    except (OSError, ValueError):
        return []


def _sweep_process(path: Path, out: Path, *extra: str, **popen: Any) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    cmd = [sys.executable, "-m", "deepgrad.lab.sweep", str(path), "--out", str(out), "--quiet",
           "--no-report", *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            **popen)


def _checkpointed(out: Path, trial: str) -> bool:
    folders = list((out / "runs").glob(f"{trial}-*"))
    return bool(folders) and (folders[0] / "checkpoints" / "last.safetensors").is_file()


def test_resume_after_killing_the_sweep_process(write_sweep: Any, tmp_path: Path) -> None:
    path = write_sweep({"name": "killed", "base": moons(epochs=25),
                        "grid": {"model.hidden": [3, 4, 5]}})
    out = tmp_path / "sweep"
    proc = _sweep_process(path, out, "--workers", "1")
    try:
        _wait_for(lambda: any(r["status"] == "completed" for r in _rows(out))
                  and _checkpointed(out, "001-hidden_4-s0"))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    rows = {r["trial"]: r["status"] for r in _rows(out)}
    assert rows["000-hidden_3-s0"] == "completed" and rows["001-hidden_4-s0"] == "running"

    # the orphaned trial notices its sweep is gone and stops, leaving a resumable folder
    running = next((out / "runs").glob("001-hidden_4-s0-*"))
    _wait_for(lambda: json.loads((running / "summary.json").read_text())["status"] != "running",
              timeout=30)
    first = next((out / "runs").glob("000-hidden_3-s0-*"))
    before = (first / "metrics.jsonl").read_text(), (first / "summary.json").stat().st_mtime_ns
    stopped_at = json.loads((running / "summary.json").read_text())["epochs_completed"]
    assert stopped_at < 25

    result = run_quiet(path, out)
    assert result.ok and result.counts["completed"] == 3
    after = (first / "metrics.jsonl").read_text(), (first / "summary.json").stat().st_mtime_ns
    assert after == before  # the finished trial was not run again
    assert [p.name for p in (out / "runs").glob("001-hidden_4-s0-*")] == [running.name]
    epochs = [r["epoch"] for r in load_run(running).epochs]
    assert epochs == list(range(1, 26))  # resumed from its checkpoint: every epoch once


def test_ctrl_c_stops_cleanly_and_leaves_a_consistent_csv(write_sweep: Any, tmp_path: Path) -> None:
    # Long enough trials that the interrupt lands mid-sweep.
    path = write_sweep({"name": "ctrlc", "base": moons(epochs=400),
                        "grid": {"model.hidden": [3, 4, 5, 6]}})
    out = tmp_path / "sweep"
    # A shell's background job (nohup ... &, as CI may run us) starts with SIGINT ignored,
    # and Python keeps an ignored SIGINT ignored: give the sweep a terminal's default.
    proc = _sweep_process(path, out, "--workers", "2", start_new_session=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(lambda: _checkpointed(out, "000-hidden_3-s0"))
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()
    assert b"run the same command again to resume" in err
    rows = read_csv(out / "sweep.csv")
    assert len(rows) == 4
    statuses = [r["status"] for r in rows]
    assert "running" not in statuses and "interrupted" in statuses
    assert set(statuses) <= {"completed", "interrupted", "pending"}
    stopped = 0
    for row in rows:
        path = out / row["run_dir"] / "summary.json" if row["run_dir"] else None
        if row["status"] == "interrupted" and path is not None and path.is_file():
            # (a trial stopped while still loading its data has no summary yet)
            assert json.loads(path.read_text())["status"] == "stopped"
            stopped += 1
    assert stopped >= 1  # the trial that had a checkpoint stopped cleanly


def test_limit_runs_part_of_the_sweep(write_sweep: Any, tmp_path: Path) -> None:
    path = write_sweep({"name": "part", "base": moons(epochs=1),
                        "grid": {"model.hidden": [3, 4, 5]}})
    out = tmp_path / "sweep"
    result = run_quiet(path, out, limit=1)
    assert [r["status"] for r in result.rows] == ["completed", "pending", "pending"]
    assert [r["status"] for r in read_csv(out / "sweep.csv")] == ["completed", "pending", "pending"]


def test_a_folder_belongs_to_one_sweep(write_sweep: Any, tmp_path: Path) -> None:
    path = write_sweep({"name": "one", "base": moons(), "grid": {"model.hidden": [3, 4]}})
    out = tmp_path / "sweep"
    run_quiet(path, out, limit=0)
    changed = write_sweep({"name": "one", "base": moons(), "grid": {"model.hidden": [3, 9]}})
    with pytest.raises(SweepError, match="holds a different sweep"):
        run_quiet(changed, out, limit=0)
    edited = write_sweep({"name": "one", "base": moons(epochs=9), "grid": {"model.hidden": [3, 4]}})
    with pytest.raises(SweepError, match="holds a different sweep"):
        run_quiet(edited, out, limit=0)
    with _lock(out), pytest.raises(SweepError, match="another sweep process is running"):
        run_quiet(path, out, limit=0)


def test_blas_threads_per_worker() -> None:
    assert threads_per_worker(1, cores=8) == 8
    assert threads_per_worker(3, cores=8) == 2
    assert threads_per_worker(16, cores=8) == 1
    for workers in range(1, 10):
        threads = threads_per_worker(workers, cores=8)
        assert threads >= 1 and (workers * threads <= 8 or threads == 1)
