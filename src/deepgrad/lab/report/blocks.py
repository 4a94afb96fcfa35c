"""The report's building blocks: sections, blocks and cells, the figure maker, and how
values, configs and run labels are written; the sections themselves are ``sections``."""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.lab.plots._common import figure_png
from deepgrad.lab.registry import direction

HTML_DPI = 100
PNG_DPI = 200
MAX_FEATURE_LAYERS = 6


@dataclass
class Cell:
    text: str
    css: str = ""


@dataclass
class Block:
    """One thing in a section: a figure, a table, preformatted text or a note."""

    kind: str  # "figure" | "table" | "kv" (key-value pairs in columns) | "pre" | "note" | "error"
    #          | "widget" (an interactive view: ``widget`` names it, ``data`` is its JSON)
    title: str = ""
    src: str = ""
    alt: str = ""
    caption: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    text: str = ""
    widget: str = ""
    data: str = ""
    static: Block | None = None  # a widget's still picture (for print and --png)


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str = ""  # set when the section is left out: why
    children: list[Section] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return bool(self.note) and not self.blocks


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class FigureMaker:
    """Draws figures into data URIs (and, with ``png_dir``, PNG files for papers and slides)."""

    def __init__(self, png_dir: Path | None = None) -> None:
        self.png_dir = png_dir
        self.saved: list[Path] = []
        self.failures: list[str] = []

    def _save(self, name: str, data: bytes, suffix: str = ".png") -> None:
        if self.png_dir is None:
            return
        self.png_dir.mkdir(parents=True, exist_ok=True)
        path = self.png_dir / f"{slug(name)}{suffix}"
        path.write_bytes(data)
        self.saved.append(path)

    def figure(self, name: str, draw: Callable[[], Any], *, title: str = "", caption: str = "",
               alt: str = "") -> Block:
        """Run ``draw()`` (returns a Figure) and wrap its PNG as a figure block."""
        try:
            fig = draw()
            png = figure_png(fig, dpi=HTML_DPI)
            if self.png_dir is not None:
                self._save(name, figure_png(fig, dpi=PNG_DPI))
        except Exception as exc:  # a bad array costs one figure, not the report
            return self._failed(name, title, exc)
        finally:
            _close_all()
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return Block("figure", title=title, src=uri, alt=alt or title or name, caption=caption)

    def svg(self, name: str, svg: Callable[[], str], png: Callable[[], bytes], *,
            title: str = "", caption: str = "", alt: str = "") -> Block:
        try:
            text = svg()
            if self.png_dir is not None:
                self._save(name, text.encode(), ".svg")
                self._save(name, png())
        except Exception as exc:
            return self._failed(name, title, exc)
        uri = "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode("ascii")
        return Block("figure", title=title, src=uri, alt=alt or title or name, caption=caption)

    def _failed(self, name: str, title: str, exc: Exception) -> Block:
        message = f"{title or name}: could not draw ({type(exc).__name__}: {exc})"
        self.failures.append(message)
        warnings.warn(f"report: {message}", RuntimeWarning, stacklevel=3)
        return Block("error", text=message)


def _close_all() -> None:
    """Figures are pyplot-free, but a user callback may have used pyplot: close those too."""
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


# ------------------------------------------------------------------ values and tables


def fmt(value: Any, key: str = "") -> str:
    """A value as the report prints it: percentages for accuracies, 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10000 else str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if "acc" in key and 0 <= v <= 1:
            return f"{100 * v:.2f}%"
        if key.endswith("time") or key == "wall_time":
            return f"{v:.1f} s" if v >= 1 else f"{v * 1000:.0f} ms"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config to dotted keys: ``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def lower_is_better(key: str) -> bool | None:
    """Which way a metric improves (the registry's answer); None for what is not a score."""
    found = direction(key)
    return None if found is None else found == "min"


# ------------------------------------------------------------------ run data


def final_metrics(run: Any) -> dict[str, Any]:
    """Last epoch's train/val metrics and the test metrics: summary.json's ``final``, or
    rebuilt from metrics.jsonl when the summary is missing (a crashed run)."""
    summary = run.summary or {}
    final = dict(summary.get("final") or {})
    if final:
        return final
    epochs = [r for r in run.metrics if r.get("kind") == "epoch"]
    if epochs:
        final.update({k: v for k, v in epochs[-1].items()
                      if k.startswith(("train_", "val_")) and isinstance(v, (int, float))})
    for rec in run.metrics:
        if rec.get("kind") == "test":
            final.update({k: v for k, v in rec.items() if k.startswith("test_")})
    return final


def run_label(run: Any) -> str:
    for source in (run.summary or {}, run.config or {}):
        if source.get("name"):
            return str(source["name"])
    return Path(run.path).name


def unique_labels(runs: Sequence[Any]) -> list[str]:
    """Short distinct labels: the run name, plus the config values that tell runs apart."""
    labels = [run_label(r) for r in runs]
    if len(set(labels)) == len(labels):
        return labels
    flat = [flatten(r.config or {}) for r in runs]
    keys = [k for k in dict.fromkeys(k for f in flat for k in f)
            if len({repr(f.get(k)) for f in flat}) > 1 and k not in {"name", "logging.dir"}]
    keys.sort(key=lambda k: (not k.endswith(".name"), k.count("."), k))

    def part(key: str, f: Mapping[str, Any]) -> str:
        # "optimizer.name" shows as its value ("adam"); others as "lr=0.01"
        if key.endswith(".name"):
            return fmt(f.get(key))
        return f"{key.split('.')[-1]}={fmt(f.get(key))}"

    out = labels
    for n in range(1, min(len(keys), 3) + 1):  # as few distinguishing values as will do
        out = [f"{label} ({', '.join(part(k, f) for k in keys[:n])})"
               for label, f in zip(labels, flat, strict=True)]
        if len(set(out)) == len(out):
            break
    if len(set(out)) < len(out):
        out = [Path(r.path).name for r in runs]
    if len(set(out)) < len(out):
        out = [f"{label} #{k}" for k, label in enumerate(out, start=1)]
    return out


def _data(run: Any, attr: str) -> Any:
    try:
        return getattr(run, attr)
    except (FileNotFoundError, OSError, ValueError, KeyError) as exc:
        warnings.warn(f"report: {attr} of {run.path} could not be read: {exc}", RuntimeWarning,
                      stacklevel=2)
        return None


def widget_block(widget: str, data: Any, *, title: str = "", caption: str = "",
                 static: Block | None = None) -> Block:
    """An interactive view: its data as JSON, safe inside a <script type=application/json>."""
    return Block("widget", title=title, caption=caption, widget=widget, data=json_for_html(data),
                 static=static)


def json_for_html(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment (<, >, & as \\u escapes)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
