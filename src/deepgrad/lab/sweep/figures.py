"""The sweep's own figure: the headline metric against a varied numeric setting, with error bars.

The report page compares the runs one by one; this figure answers the
question a sweep over a number asks ("how does accuracy depend on the
dropout rate?"): mean over seeds with ± one standard deviation, one line
per value of the other varied settings (architecture A and B, say).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .spec import _label, short_value

__all__ = ["numeric_settings", "plot_metric_vs_setting", "write_figures"]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def numeric_settings(summary: list[dict[str, Any]], varied: list[str]) -> list[str]:
    """Varied keys whose values are all numbers, at least two different ones."""
    out = []
    for key in varied:
        values = [s.get(key) for s in summary]
        if values and all(_number(v) for v in values) and len(set(values)) >= 2:
            out.append(key)
    return out


def plot_metric_vs_setting(
    summary: list[dict[str, Any]], key: str, metric: str, varied: list[str], title: str = ""
) -> Any:
    """A matplotlib Figure: ``metric`` mean ± std against ``key``, a line per other setting."""
    from matplotlib.figure import Figure

    others = [k for k in varied if k != key]
    series: dict[str, list[tuple[float, float, float, int]]] = {}
    for s in summary:
        mean = s.get(f"{metric}_mean")
        if mean is None:
            continue
        label = ", ".join(f"{_label(k)}={short_value(s.get(k))}" for k in others
                          if s.get(k) is not None)
        if not label and others:
            label = s["variant"].split(",")[0]
        std = s.get(f"{metric}_std") or 0.0
        series.setdefault(label, []).append((float(s[key]), float(mean), float(std), s["n"]))
    fig = Figure(figsize=(6.0, 4.0), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    xs_all = [p[0] for pts in series.values() for p in pts]
    for label, points in series.items():
        points.sort()
        x, y, e = zip(*[(p[0], p[1], p[2]) for p in points], strict=True)
        ax.errorbar(x, y, yerr=e, marker="o", capsize=3, label=label or None)
    if xs_all and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 20:  # learning rates, L2
        ax.set_xscale("log")
    ax.set_xlabel(key)
    seeds = max((p[3] for pts in series.values() for p in pts), default=1)
    ax.set_ylabel(f"{metric} (mean ± std over {seeds} seed{'s' if seeds != 1 else ''})")
    ax.set_title(title or f"{metric} vs {key}")
    ax.grid(True, alpha=0.3)
    if any(series):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_figures(
    folder: Path, summary: list[dict[str, Any]], varied: list[str], metric: str, name: str
) -> list[Path]:
    """``metric-vs-<key>.png`` in ``folder`` for every numeric varied setting; the paths."""
    paths = []
    for key in numeric_settings(summary, varied):
        fig = plot_metric_vs_setting(summary, key, metric, varied, title=f"{name}: {metric}")
        path = Path(folder) / f"metric-vs-{key}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths
