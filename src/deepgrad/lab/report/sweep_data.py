"""A sweep folder as data for the page's sweep explorer (static/sweep.js).

Read from the folder's own files (docs: the sweep folder in ``lab/sweep/runner.py``):
``sweep.csv`` gives one row per trial — the varied settings are its columns
between ``variant`` and ``seed``, the final metrics those between
``wall_time`` and ``error`` — and ``sweep.yaml`` names the sweep's metric and
direction. Each trial's run folder gives its curve of that metric per epoch:
the same values the Optuna pruner was told (``trial.report(value, epoch)``),
so a pruned trial's curve ends where the pruner stopped it.

Setting importance (``importance``) is one number per setting, stated on the page:
the share of the metric's variance over completed trials that the setting's
groups explain, eta squared = between-group sum of squares / total sum of
squares. A categorical setting groups by value; a numeric one by value when it
takes at most ``MAX_GROUPS`` values, else by rank into ``MAX_GROUPS`` equal-count
bins. For numeric settings the Spearman rank correlation with the metric gives
the direction. It looks at one setting at a time (no interactions) and, with few
trials, is noisy: the page says how many trials it used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.lab.registry import direction as metric_direction

__all__ = ["MAX_GROUPS", "SweepFolder", "eta_squared", "importance", "is_sweep_folder", "spearman",
           "sweep_data"]

MAX_GROUPS = 5


def is_sweep_folder(path: str | Path) -> bool:
    """A folder that ``deepgrad sweep`` wrote (it has sweep.csv and sweep.yaml)."""
    p = Path(path)
    return (p / "sweep.csv").is_file() and (p / "sweep.yaml").is_file()


class SweepFolder:
    """A sweep folder given to the report: its explorer, then its finished trials' runs."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not is_sweep_folder(self.path):
            raise FileNotFoundError(f"report: {self.path} is not a sweep folder "
                                    "(expected sweep.csv and sweep.yaml in it)")

    @property
    def name(self) -> str:
        return self.path.name

    def finished_runs(self) -> list[Any]:
        """The run folders of the completed and pruned trials, in trial order."""
        from deepgrad.lab.runs import load_run

        out = []
        for row in read_csv(self.path / "sweep.csv"):
            run = self.path / (row.get("run_dir") or "")
            if row.get("status") in ("completed", "pruned") and row.get("run_dir") \
                    and run.is_dir():
                out.append(load_run(run))
        return out


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of sweep.csv as dicts of strings (``deepgrad.lab.sweep.read_csv`` does the
    same, but the sweep runner imports the report: importing it here would be a cycle)."""
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _value(text: str) -> Any:
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and "." not in text and "e" not in text else number


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), 0-based."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for v in np.unique(x):
        tie = x == v
        ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None when either side is constant or has < 3 points."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    ra, rb = _ranks(a), _ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def eta_squared(groups: Sequence[Any], y: Sequence[float]) -> float | None:
    """Between-group sum of squares over the total; None when y is constant or < 3 points."""
    values = np.asarray(y, dtype=np.float64)
    if len(values) < 3 or np.ptp(values) == 0:
        return None
    labels = [repr(g) for g in groups]
    total = float(((values - values.mean()) ** 2).sum())
    between = 0.0
    for label in dict.fromkeys(labels):
        member = values[[lab == label for lab in labels]]
        between += len(member) * float((member.mean() - values.mean()) ** 2)
    return between / total


def _groups(values: Sequence[Any]) -> list[Any]:
    numeric = all(isinstance(v, (int, float)) for v in values)
    if not numeric or len(set(values)) <= MAX_GROUPS:
        return list(values)
    ranks = _ranks(np.asarray(values, dtype=np.float64))
    return [int(r * MAX_GROUPS // len(values)) for r in ranks]


def importance(trials: list[dict[str, Any]], settings: list[str],
               metric: str) -> list[dict[str, Any]]:
    """Eta squared (and Spearman's rho for numbers) of each setting over completed trials."""
    done = [t for t in trials if t["status"] == "completed"
            and isinstance(t["values"].get(metric), (int, float))]
    out = []
    for key in settings:
        pairs = [(t["values"].get(key), t["values"][metric]) for t in done
                 if t["values"].get(key) is not None]
        xs, ys = [p[0] for p in pairs], [float(p[1]) for p in pairs]
        numeric = bool(xs) and all(isinstance(x, (int, float)) for x in xs)
        out.append({"key": key, "n": len(pairs), "eta2": eta_squared(_groups(xs), ys),
                    "rho": spearman(xs, ys) if numeric else None})
    return out


def _curve(run_dir: Path, metric: str) -> dict[str, list[float]]:
    from deepgrad.lab.runs import load_run

    if not run_dir.is_dir():
        return {"epoch": [], "value": []}
    epochs = [r for r in load_run(run_dir).epochs
              if isinstance(r.get(metric), (int, float)) and math.isfinite(r[metric])]
    return {"epoch": [int(r["epoch"]) for r in epochs], "value": [float(r[metric])
                                                                    for r in epochs]}


def sweep_data(folder: str | Path) -> dict[str, Any]:
    """Everything the sweep explorer draws, from a sweep folder."""
    import yaml

    root = Path(folder)
    rows = read_csv(root / "sweep.csv")
    spec = yaml.safe_load((root / "sweep.yaml").read_text()) or {}
    search = spec.get("search") or {}
    metric = str(search.get("metric") or spec.get("metric") or "val_loss")
    goal = {"maximize": "max", "minimize": "min"}.get(str(search.get("direction")),
                                                     metric_direction(metric) or "min")
    columns = list(rows[0]) if rows else []
    try:
        settings = columns[columns.index("variant") + 1:columns.index("seed")]
        metrics = columns[columns.index("wall_time") + 1:columns.index("error")]
    except ValueError as exc:
        raise ValueError(f"sweep report: {root / 'sweep.csv'} lacks the columns variant, seed, "
                         f"wall_time and error (found {columns})") from exc
    if metric in metrics:
        metrics = [metric] + [m for m in metrics if m != metric]
    trials: list[dict[str, Any]] = []
    for row in rows:
        values = {k: _value(row[k]) for k in [*settings, "seed", "epochs", "wall_time", *metrics]}
        run = row.get("run_dir") or ""
        trials.append({"id": row["trial"], "status": row["status"], "values": values,
                       "run": run, "error": row.get("error") or "",
                       "curve": _curve(root / run, metric) if run else {"epoch": [],
                                                                          "value": []}})
    kinds = {}
    for key in settings:
        present = [t["values"][key] for t in trials if t["values"][key] is not None]
        numeric = bool(present) and all(isinstance(v, (int, float)) for v in present)
        positive = numeric and min(present) > 0
        kinds[key] = {"kind": "num" if numeric else "cat",
                      "log": bool(positive and max(present) / min(present) >= 100)}
    return {"name": str(spec.get("name") or root.name), "metric": metric, "goal": goal,
            "search": "optuna" if search else "grid", "settings": settings, "kinds": kinds,
            "metrics": metrics, "trials": trials,
            "importance": importance(trials, settings, metric)}
