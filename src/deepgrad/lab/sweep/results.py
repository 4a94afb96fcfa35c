"""A sweep's results as files: ``sweep.csv`` (one row per trial) and the mean ± std
summary over seeds (``summary.csv``), written by the runner and read by reports."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

__all__ = ["read_csv", "summarize", "format_summary", "metric_columns"]


# ----------------------------------------------------------------------------- files


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    return value


def _csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in columns})
    return buf.getvalue()


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a sweep.csv or summary.csv as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------- summary


def _mean_std(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


NOT_METRICS = ("epoch", "step", "lr", "time", "samples_per_sec")


def metric_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Final-metric keys seen in any row: train first, then val, then test, then the rest."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(k for k in row.get("final") or {} if k not in NOT_METRICS))
    order = {"train": 0, "val": 1, "test": 2}
    return sorted(seen, key=lambda k: (order.get(k.split("_")[0], 3), k))


def summarize(
    rows: list[dict[str, Any]], varied: list[str], metrics: list[str] | None = None
) -> list[dict[str, Any]]:
    """Per variant (in sweep order): its varied values, n seeds done, mean and std of metrics."""
    metrics = metrics if metrics is not None else metric_columns(rows)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["variant"], []).append(row)
    out = []
    for variant, members in groups.items():
        done = [r for r in members if r["status"] == "completed"]
        entry: dict[str, Any] = {"variant": variant}
        for key in varied:
            entry[key] = members[0].get(key)
        entry["n"] = len(done)
        entry["seeds"] = len(members)
        for m in metrics:
            values = [
                float(r["final"][m]) for r in done
                if isinstance((r.get("final") or {}).get(m), (int, float))
                and math.isfinite(float(r["final"][m]))
            ]
            if values:
                entry[f"{m}_mean"], entry[f"{m}_std"] = _mean_std(values)
            else:
                entry[f"{m}_mean"] = entry[f"{m}_std"] = None
        out.append(entry)
    return out


def format_summary(
    summary: list[dict[str, Any]], metric: str, direction: str, limit: int = 40
) -> str:
    """A plain-text table of ``metric`` mean ± std per variant, best marked with ``*``."""
    if not summary:
        return "(no trials)"
    key = f"{metric}_mean"
    values = [(s.get(key), i) for i, s in enumerate(summary) if s.get(key) is not None]
    best = None
    if values:
        pick = max if direction == "maximize" else min
        best = pick(values)[1]
    width = min(max(len(s["variant"]) for s in summary), 60)
    lines = [f"{'variant':<{width}}  {'n':>3}  {metric}"]
    for i, s in enumerate(summary[:limit]):
        mean = s.get(key)
        cell = "-" if mean is None else f"{mean:.4f} ± {s.get(f'{metric}_std') or 0.0:.4f}"
        mark = " *" if i == best else ""
        lines.append(f"{s['variant'][:width]:<{width}}  {s['n']:>3}  {cell}{mark}")
    if len(summary) > limit:
        lines.append(f"... {len(summary) - limit} more in summary.csv")
    return "\n".join(lines)
