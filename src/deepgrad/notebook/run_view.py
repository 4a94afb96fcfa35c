"""The notebook views of training results: a History (what ``fit`` returns), a Run (a
run folder read back) and a sweep's result: learning curves as small SVG charts and the
final metrics as a table.

The functions read plain records (the epoch dicts of ``metrics.jsonl``), so they need
nothing from the lab beyond the objects handed to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .charts import line_chart
from .html import esc, frame, num, table

SKIP = ("epoch", "step", "time", "samples_per_sec", "batch_size")
MAX_SWEEP_ROWS = 60


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metric_names(epochs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The numeric keys of the epoch records (``train_loss``, ``val_accuracy``, ``lr``...)."""
    seen: dict[str, None] = {}
    for record in epochs:
        seen.update({k: None for k, v in record.items() if k not in SKIP and _is_number(v)})
    return list(seen)


def curve_groups(epochs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    """One chart per measure: ``{"loss": {"train_loss": [...], "val_loss": [...]}, ...}``."""
    groups: dict[str, dict[str, list[Any]]] = {}
    for key in metric_names(epochs):
        base = key.split("_", 1)[1] if key.startswith(("train_", "val_")) else key
        groups.setdefault(base, {})[key] = [r.get(key) for r in epochs]
    return groups


def curves_html(epochs: Sequence[Mapping[str, Any]], max_charts: int = 4) -> str:
    """Up to ``max_charts`` charts (loss first, the learning rate last)."""
    groups = curve_groups(epochs)
    order = sorted(groups, key=lambda k: (k != "loss", k == "lr", k))
    charts = "".join(line_chart(groups[name], title=name) for name in order[:max_charts])
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{charts}</div>'


def final_table(last: Mapping[str, Any], test: Mapping[str, Any] | None = None) -> str:
    """The last epoch's metrics, and the test metrics beside them when there are any."""
    keys = [k for k in metric_names([last]) if k != "lr"]
    rows = [[esc(k), num(last[k])] for k in keys]
    rows += [[esc(f"test_{k}" if not str(k).startswith("test") else k), num(v)]
             for k, v in (test or {}).items() if _is_number(v)]
    return table(["metric", "final"], rows) if rows else ""


def history_html(history: Any) -> str:
    """The HTML view of a History (``History._repr_html_``)."""
    epochs = history.epochs
    head = f"<div>{len(epochs)} epochs · status {esc(history.status)}"
    if history.stopped_early_at is not None:
        head += f" · stopped early at epoch {num(history.stopped_early_at)}"
    if history.run_dir is not None:
        head += f" · run folder <code>{esc(history.run_dir)}</code>"
    head += "</div>"
    error = (f'<div style="color:#c00">{esc(history.error)}</div>' if history.error else "")
    body = curves_html(epochs) if epochs else "<div>no epoch finished yet</div>"
    return frame("history", "History", head, error, body,
                 final_table(history.last, history.test))


def run_html(run: Any) -> str:
    """The HTML view of a Run folder (``Run._repr_html_``): status, curves, final metrics,
    and what could not be read."""
    epochs = run.epochs
    config = run.config or {}
    model = (config.get("model") or {}).get("name") if isinstance(config, dict) else None
    head = (f"<div><code>{esc(run.path)}</code> · status {esc(run.status)} · "
            f"{len(epochs)} epochs{' · model ' + esc(model) if model else ''}</div>")
    problems = "".join(f'<div style="color:#c00">{esc(p)}</div>' for p in run.problems)
    body = curves_html(epochs) if epochs else "<div>no epoch records</div>"
    return frame("run", f"Run {run.name}", head, problems, body,
                 final_table(epochs[-1] if epochs else {}, run.test))


def sweep_html(result: Any) -> str:
    """The HTML view of a SweepResult: trials by status, the per-variant mean ± std of
    every final metric (the mean alone for a variant with one finished seed), the best
    trial."""
    counts = " · ".join(f"{esc(k)} {num(v)}" for k, v in result.counts.items() if v)
    head = (f"<div><code>{esc(result.sweep_dir)}</code> · {len(result.rows)} trials"
            f"{' · ' + counts if counts else ''}"
            f"{' · interrupted' if result.interrupted else ''}</div>")
    summary = list(result.summary)
    metrics = [k[:-5] for k in (summary[0] if summary else {}) if k.endswith("_mean")]
    rows = []
    for entry in summary[:MAX_SWEEP_ROWS]:
        cells = [esc(entry.get("variant")), f"{num(entry.get('n'))}/{num(entry.get('seeds'))}"]
        for m in metrics:
            mean, std = entry.get(f"{m}_mean"), entry.get(f"{m}_std")
            spread = f" ± {num(std or 0.0, 2)}" if (entry.get("n") or 0) > 1 else ""
            cells.append("–" if mean is None else f"{num(mean)}{spread}")
        rows.append(cells)
    more = (f"<div>… {len(summary) - MAX_SWEEP_ROWS:,} more variants in summary.csv</div>"
            if len(summary) > MAX_SWEEP_ROWS else "")
    best = ""
    if result.best:
        best = "<div>best trial: " + " · ".join(
            f"{esc(k)} {num(v) if _is_number(v) else esc(v)}" for k, v in result.best.items()) \
            + "</div>"
    return frame("sweep", "Sweep", head, table(["variant", "done", *metrics], rows), more, best)
