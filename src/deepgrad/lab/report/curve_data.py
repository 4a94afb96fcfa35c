"""The learning curves as data for the page's interactive charts (static/curves.js).

A run's ``metrics.jsonl`` becomes, per run, a list of series: the per-step
training loss (and the other per-step numbers), and per epoch each ``train_``
and ``val_`` metric. Every point carries three x positions, so the page can
plot against step, epoch or wall time without asking the file again: per-step
records get a fractional epoch interpolated between the epoch ends they fall
between (a step record's own ``epoch`` counts completed epochs, a staircase).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["curve_data", "metric_order"]

Records = Sequence[Mapping[str, Any]]
STEP_SKIP = {"kind", "epoch", "step", "time", "samples_per_sec"}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _epoch_of_step(records: Records) -> tuple[np.ndarray, np.ndarray]:
    """Knots (step, epoch) of the epoch ends, starting at (0, 0), for interpolation."""
    steps, epochs = [0.0], [0.0]
    for rec in records:
        if rec.get("kind") == "epoch" and _num(rec.get("step")) is not None \
                and _num(rec.get("epoch")) is not None:
            steps.append(float(rec["step"]))
            epochs.append(float(rec["epoch"]))
    return np.asarray(steps), np.asarray(epochs)


def _series(records: Records, kind: str, key: str, metric: str, split: str,
            knots: tuple[np.ndarray, np.ndarray]) -> dict[str, Any] | None:
    rows = [r for r in records if r.get("kind") == kind and key in r]
    if not rows or all(_num(r[key]) is None for r in rows):
        return None
    step = [_num(r.get("step")) for r in rows]
    if kind == "epoch":
        epoch = [_num(r.get("epoch")) for r in rows]
    elif len(knots[0]) > 1:
        epoch = [None if s is None else
                 round(float(np.interp(s, knots[0], knots[1], right=np.nan)), 4) for s in step]
        epoch = [None if e is None or math.isnan(e) else e for e in epoch]
        if all(e is None for e in epoch):
            epoch = [_num(r.get("epoch")) for r in rows]
    else:
        epoch = [_num(r.get("epoch")) for r in rows]
    return {"name": f"{split} {metric}" if split != "step" else f"{metric} (per step)",
            "metric": metric, "split": split,
            "x": {"step": step, "epoch": epoch, "time": [_num(r.get("time")) for r in rows]},
            "y": [_num(r[key]) for r in rows]}


def metric_order(names: Sequence[str]) -> list[str]:
    """Loss first, the learning rate last, the others as logged."""
    rest = [n for n in names if n not in ("loss", "lr")]
    return [n for n in ("loss",) if n in names] + rest + [n for n in ("lr",) if n in names]


def curve_data(runs: Mapping[str, Records]) -> dict[str, Any]:
    """``{"runs": [{"label", "series": [...]}], "metrics": [...]}`` for ``{label: records}``."""
    out_runs: list[dict[str, Any]] = []
    names: list[str] = []
    for label, records in runs.items():
        knots = _epoch_of_step(records)
        series: list[dict[str, Any]] = []
        step_keys = list(dict.fromkeys(k for r in records if r.get("kind") == "step"
                                       for k in r if k not in STEP_SKIP))
        epoch_keys = list(dict.fromkeys(k for r in records if r.get("kind") == "epoch"
                                        for k in r))
        for key in step_keys:
            found = _series(records, "step", key, key, "step", knots)
            if found:
                series.append(found)
        for key in epoch_keys:
            for split in ("train", "val"):
                if key.startswith(split + "_"):
                    found = _series(records, "epoch", key, key[len(split) + 1:], split, knots)
                    if found:
                        series.append(found)
        if not any(s["metric"] == "lr" for s in series) and "lr" in epoch_keys:
            found = _series(records, "epoch", "lr", "lr", "train", knots)
            if found:
                series.append(found)
        for s in series:
            if s["metric"] not in names:
                names.append(s["metric"])
        out_runs.append({"label": label, "series": series})
    return {"runs": out_runs, "metrics": metric_order(names)}
