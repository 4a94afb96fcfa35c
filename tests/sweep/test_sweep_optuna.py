"""An Optuna search: 6 trials proposed by TPE, the hopeless ones pruned by the median rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import moons

from deepgrad.lab.sweep import read_csv, run_sweep

optuna = pytest.importorskip("optuna")


def test_optuna_search_of_six_trials_with_pruning(write_sweep: Any, tmp_path: Path) -> None:
    path = write_sweep({
        "name": "search",
        "base": moons(epochs=6),
        "search": {
            "n_trials": 6,
            "metric": "val_accuracy",
            "direction": "maximize",
            "seed": 3,
            "n_startup_trials": 4,  # TPE's random start, then the model
            "pruner": {"name": "median", "n_startup_trials": 2, "n_warmup_steps": 1},
            # lr spans "learns nothing in 6 epochs" to "fits the moons": pruning has work to do
            "params": {"optimizer.lr": {"log_uniform": [1e-5, 1e-1]}},
        },
    })
    out = tmp_path / "sweep"
    quiet: dict[str, Any] = {"progress": False, "report": False, "log": lambda text: None}
    first = run_sweep(path, out=out, limit=3, **quiet)  # stop halfway, then resume the search
    assert len(first.rows) == 3
    result = run_sweep(path, out=out, **quiet)

    study = optuna.load_study(study_name="search", storage=f"sqlite:///{out / 'optuna.db'}")
    states = [t.state.name for t in study.trials]
    assert len(states) == 6 and "RUNNING" not in states
    assert states.count("PRUNED") >= 1 and states.count("COMPLETE") >= 2

    rows = read_csv(out / "sweep.csv")
    assert len(rows) == 6
    by_number = {int(r["trial"][:3]): r for r in rows}
    for t in study.trials:
        row = by_number[t.number]
        assert row["status"] == {"COMPLETE": "completed", "PRUNED": "pruned"}[t.state.name]
        assert float(row["optimizer.lr"]) == pytest.approx(t.params["optimizer.lr"], rel=1e-5)
        # every epoch's validation accuracy went to the study as an intermediate value
        assert len(t.intermediate_values) == int(row["epochs"])
        if t.state.name == "PRUNED":
            assert int(row["epochs"]) < 6  # stopped early, as an ordinary (completed) run
        else:
            assert float(row["val_accuracy"]) == pytest.approx(t.value, rel=1e-5)
    rates = [t.params["optimizer.lr"] for t in study.trials]
    assert len(set(rates)) == 6  # the resumed search did not replay its first proposals
    best = max((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert result.best is not None and result.best["number"] == best.number

    # the same command again: the study is complete, nothing new runs
    again = run_sweep(path, out=out, **quiet)
    assert len(optuna.load_study(study_name="search",
                                 storage=f"sqlite:///{out / 'optuna.db'}").trials) == 6
    assert [r["status"] for r in again.rows] == [r["status"] for r in rows]
