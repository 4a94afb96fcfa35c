"""Learning curves: loss and metrics per epoch and per step, and the learning rate.

Input is the run's ``metrics.jsonl`` records (``kind`` ``step``/``epoch``/``test``),
given as a Run, a list of records, or ``{label: records}`` for several runs
overlaid. Colour tells runs apart; line style tells splits apart (train solid,
validation dashed, per-step dotted and smoothed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, NullFormatter

from deepgrad.lab.plots._common import PALETTE, new_figure, styled

__all__ = ["curve_series", "metric_names", "plot_learning_curves", "plot_lr", "smooth"]

Records = Sequence[Mapping[str, Any]]
SPLIT_STYLE = {"train": "-", "val": "--", "step": ":"}


def smooth(values: Sequence[float] | np.ndarray, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start.

    ``weight`` in [0, 1): 0 returns the values unchanged. The debiasing divides by
    ``1 - weight**t`` so the first points are not dragged towards zero.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smooth: weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    acc = 0.0
    for t, v in enumerate(values, start=1):  # a scan over one curve, not over samples
        acc = weight * acc + (1.0 - weight) * v
        out[t - 1] = acc / (1.0 - weight**t)
    return out


def _runs(runs: Any) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Normalise a Run, a list of Runs, records, or {label: records} to (label, records)."""
    if isinstance(runs, Mapping):
        return [(str(label), list(_records(r))) for label, r in runs.items()]
    if hasattr(runs, "metrics"):
        return [(_label(runs, 0), list(runs.metrics))]
    runs = list(runs)
    if runs and isinstance(runs[0], Mapping):
        return [("run", runs)]
    return [(_label(r, k), list(_records(r))) for k, r in enumerate(runs)]


def _records(run: Any) -> Records:
    return run.metrics if hasattr(run, "metrics") else run


def _label(run: Any, k: int) -> str:
    for source in (getattr(run, "summary", None), getattr(run, "config", None)):
        if isinstance(source, Mapping) and source.get("name"):
            return str(source["name"])
    path = getattr(run, "path", None)
    return str(getattr(path, "name", path)) if path else f"run {k + 1}"


def metric_names(records: Records) -> list[str]:
    """Metric names other than loss found in epoch records (``train_accuracy`` -> accuracy)."""
    names: list[str] = []
    for rec in records:
        if rec.get("kind") != "epoch":
            continue
        for key in rec:
            for prefix in ("train_", "val_"):
                if key.startswith(prefix) and key != prefix + "loss":
                    name = key[len(prefix):]
                    if name not in names and isinstance(rec[key], (int, float)):
                        names.append(name)
    return names


def _steps_per_epoch(records: Records) -> float | None:
    for rec in records:
        if rec.get("kind") == "epoch" and rec.get("epoch") and rec.get("step"):
            return float(rec["step"]) / float(rec["epoch"])
    return None


def curve_series(records: Records, key: str, kind: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one metric: epochs for epoch records, fractional epochs for step records.

    Step records are placed at ``step / steps_per_epoch`` so both kinds share the
    epoch axis; without epoch records the x axis is the global step.
    """
    rows = [r for r in records if r.get("kind") == kind and isinstance(r.get(key), (int, float))]
    y = np.array([float(r[key]) for r in rows], dtype=np.float64)
    if kind == "epoch":
        x = np.array([float(r.get("epoch", k + 1)) for k, r in enumerate(rows)])
    else:
        per = _steps_per_epoch(records)
        steps = np.array([float(r.get("step", k + 1)) for k, r in enumerate(rows)])
        x = steps / per if per else steps
    return x, y


def _epoch_axis(records_list: list[list[Mapping[str, Any]]]) -> str:
    return "epoch" if any(_steps_per_epoch(r) for r in records_list) else "step"


def _handles(runs: list[str], splits: list[str]) -> list[Line2D]:
    """Runs by colour, splits by line style: one legend that reads both ways."""
    handles: list[Line2D] = []
    if len(runs) > 1:
        handles += [Line2D([], [], color=PALETTE[k % len(PALETTE)], lw=2, label=name)
                    for k, name in enumerate(runs)]
    names = {"train": "train", "val": "validation", "step": "train, per step (smoothed)"}
    handles += [Line2D([], [], color="#444444" if len(runs) > 1 else PALETTE[0],
                       ls=SPLIT_STYLE[s], lw=1.5, label=names[s]) for s in splits]
    return handles


def _draw_lr(ax: Any, series: list[tuple[str, list[Mapping[str, Any]]]], xlabel: str) -> None:
    for k, (_, recs) in enumerate(series):
        kind = "step" if any(r.get("kind") == "step" and "lr" in r for r in recs) else "epoch"
        x, y = curve_series(recs, "lr", kind)
        if len(x):
            ax.plot(x, y, color=PALETTE[k % len(PALETTE)], lw=1.5, drawstyle="steps-post")
    ax.set_title("learning rate")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate")
    lines = [np.asarray(ln.get_ydata(), float) for ln in ax.get_lines()]
    values = np.concatenate(lines) if lines else np.zeros(0)
    positive = values[values > 0]
    if len(positive) and positive.max() / positive.min() > 10:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())  # decades only: no 4x10^-1 clutter
    elif len(positive):
        ax.set_ylim(0, positive.max() * 1.1)  # a constant rate reads as constant


def _draw_metric(ax: Any, panel: str, series: list[tuple[str, list[Mapping[str, Any]]]],
                 xlabel: str, smoothing: float) -> list[str]:
    used: list[str] = []
    for k, (_, recs) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        if panel == "loss":
            xs, ys = curve_series(recs, "loss", "step")
            if len(xs):
                if smoothing > 0 and len(ys) > 2:
                    ax.plot(xs, ys, color=color, lw=0.6, alpha=0.15)
                ax.plot(xs, smooth(ys, smoothing) if smoothing > 0 else ys, color=color,
                        lw=1.0, ls=SPLIT_STYLE["step"], alpha=0.9)
                used.append("step")
        for split in ("train", "val"):
            x, y = curve_series(recs, f"{split}_{panel}", "epoch")
            if len(x):
                ax.plot(x, y, color=color, ls=SPLIT_STYLE[split], lw=1.8,
                        marker="o", ms=3.5 if len(x) <= 30 else 0)
                used.append(split)
    ax.set_title(panel.replace("_", " "))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(panel.replace("_", " "))
    splits: list[str] = [s for s in ("train", "val", "step") if s in used]
    if len(series) == 1 and splits:  # several runs share one legend under the figure
        ax.legend(handles=_handles([series[0][0]], splits), loc="best")
    return splits


@styled
def plot_learning_curves(runs: Any, *, metrics: Sequence[str] | None = None,
                         smoothing: float = 0.6, show_lr: bool = True) -> Figure:
    """Loss, each metric and the learning rate against epochs, runs overlaid.

    One panel for the loss (train per epoch, validation per epoch, train per step
    smoothed), one per metric (``accuracy`` plots ``train_accuracy`` and
    ``val_accuracy``), and one for the learning rate (log scale when it spans
    more than a decade).
    """
    series = _runs(runs)
    if not series:
        raise ValueError("plot_learning_curves: no runs given")
    all_records = [recs for _, recs in series]
    names = list(metrics) if metrics is not None else []
    if metrics is None:
        for recs in all_records:
            names += [m for m in metric_names(recs) if m not in names]
    has_lr = show_lr and any(isinstance(r.get("lr"), (int, float))
                             for recs in all_records for r in recs)
    panels = ["loss"] + names + (["lr"] if has_lr else [])
    fig = new_figure(4.2 * len(panels), 3.3 + (0.25 + 0.2 * (len(series) // 6) if len(series) > 1
                                               else 0))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    xlabel = _epoch_axis(all_records)
    used: list[str] = []
    for panel, ax in zip(panels, axes, strict=True):
        if panel == "lr":
            _draw_lr(ax, series, xlabel)
        else:
            used += [s for s in _draw_metric(ax, panel, series, xlabel, smoothing)
                     if s not in used]
    if len(series) > 1:
        handles = _handles([label for label, _ in series],
                           [s for s in ("train", "val", "step") if s in used])
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6))
    return fig


@styled
def plot_lr(runs: Any) -> Figure:
    """The learning rate alone, per step when logged per step (schedules made visible)."""
    series = _runs(runs)
    fig = new_figure(4.4, 3.3)
    _draw_lr(fig.add_subplot(), series, _epoch_axis([recs for _, recs in series]))
    return fig
