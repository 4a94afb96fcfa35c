"""What the report shows: sections built from run folders, each with its figures and tables.

Every section asks the run for the data it needs and, when the run does not
have it, becomes a one-line note instead of an error. A figure that fails to
draw becomes a note naming the error (and a warning), so one bad array never
costs the whole report.
"""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.lab import plots
from deepgrad.lab.plots._common import figure_png, get
from deepgrad.lab.plots.features import feature_map_layers, filter_keys
from deepgrad.lab.plots.histograms import KINDS, histogram_names, saturation_names
from deepgrad.lab.registry import direction
from deepgrad.lab.report.confusion_data import confusion_data
from deepgrad.lab.report.curve_data import curve_data
from deepgrad.lab.report.graph_data import graph_data

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


# ------------------------------------------------------------------ one run


def overview_section(run: Any, sid: str) -> Section:
    section = Section(sid, "Overview")
    for problem in (run.check() if hasattr(run, "check") else []):
        # a damaged file is named here; the sections below use what could be read
        section.blocks.append(Block("error", text=f"Damaged file: {problem}"))
    summary = run.summary or {}
    config = run.config or {}
    facts: list[tuple[str, Any]] = [
        ("run folder", Path(run.path).name),
        ("status", summary.get("status")),
        ("task", summary.get("task")),
        ("model", summary.get("model") or get(config.get("model") or {}, "name")),
        ("parameters", summary.get("params")),
        ("epochs completed", summary.get("epochs_completed")),
        ("wall time", fmt(summary.get("wall_time"), "wall_time")
         if summary.get("wall_time") is not None else None),
        ("samples / s", summary.get("samples_per_sec")),
    ]
    best = summary.get("best") or {}
    if best:
        facts.append(("best epoch", f"{best.get('epoch')} ({best.get('monitor')} = "
                                    f"{fmt(best.get('value'), str(best.get('monitor', '')))})"))
    if summary.get("error"):
        facts.append(("error", summary["error"]))
    rows = [[Cell(k), Cell(fmt(v), "error" if k == "error" else "")]
            for k, v in facts if v is not None]
    if not summary:
        section.blocks.append(Block("note", text="No summary.json: the run did not finish "
                                                 "writing it (crashed or still running)."))
    section.blocks.append(Block("table", title="Summary", header=["", ""], rows=rows))
    final = final_metrics(run)
    if final:
        section.blocks.append(Block("table", title="Final metrics", header=["metric", "value"],
                                    rows=[[Cell(k), Cell(fmt(v, k))] for k, v in final.items()]))
    if config:
        section.blocks.append(Block("kv", title="Config",
                                    rows=[[Cell(k), Cell(fmt(v))]
                                          for k, v in flatten(config).items()]))
    else:
        section.blocks.append(Block("note", text="No config.yaml in this run folder."))
    env = {f"versions.{k}": v for k, v in (summary.get("versions") or {}).items()}
    env.update({f"machine.{k}": v for k, v in (summary.get("machine") or {}).items()})
    if env:
        section.blocks.append(Block("kv", title="Environment",
                                    rows=[[Cell(k), Cell(fmt(v))] for k, v in env.items()]))
    return section


def curves_section(runs: Mapping[str, Any], sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Learning curves")
    have = {label: run for label, run in runs.items() if run.metrics}
    if not have:
        section.note = "Left out: no metrics.jsonl records in this run."
        return section
    still = maker.figure(
        f"{name}-learning-curves", lambda: plots.plot_learning_curves(
            {label: run.metrics for label, run in have.items()}),
        title="Loss, metrics and learning rate",
        caption="Per epoch: train solid, validation dashed. Per step: the training loss, "
                "smoothed (faint: raw).")
    section.blocks.append(widget_block(
        "curves", curve_data({label: run.metrics for label, run in have.items()}),
        title="Interactive curves",
        caption="Hover for the logged values; drag across a chart to zoom, double-click or "
                "'reset zoom' to undo. Train solid, validation dashed; with smoothing on, "
                "the raw line is faint beneath.", static=still))
    return section


def widget_block(widget: str, data: Any, *, title: str = "", caption: str = "",
                 static: Block | None = None) -> Block:
    """An interactive view: its data as JSON, safe inside a <script type=application/json>."""
    return Block("widget", title=title, caption=caption, widget=widget, data=json_for_html(data),
                 static=static)


def json_for_html(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment (<, >, & as \\u escapes)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def model_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Model")
    text = _data(run, "model_txt")
    dot = _data(run, "graph_dot")
    if not text and not dot and _data(run, "graph_trace") is None:
        section.note = "Left out: the run has neither model.txt nor graph.dot."
        return section
    if text:
        table = plots.parse_summary(text)
        if table.header and table.rows:
            rows = [[Cell(c) for c in r] for r in table.rows]
            rows += [[Cell(n, "note")] + [Cell("")] * (len(table.header) - 1)
                     for n in table.notes]
            section.blocks.append(Block("table", title="Layers", header=table.header, rows=rows))
        else:
            section.blocks.append(Block("pre", title="Layers", text=text))
    else:
        section.blocks.append(Block("note", text="No model.txt (layer table) in this run."))
    still = None
    if dot:
        still = maker.svg(
            f"{name}-graph", lambda: plots.graph_svg(dot), lambda: plots.graph.graph_png(dot),
            title="Graph of one forward pass",
            caption="Autograd graph: parameters blue, inputs grey, ops with their output "
                    "shapes, the output green.")
    trace = _data(run, "graph_trace")
    explorer = None
    if trace is not None:
        try:
            explorer = widget_block(
                "graph", graph_data(trace), title="Graph explorer: one batch, backward",
                caption="Step backward (button, or the key →) to follow the gradient "
                        "from the loss to the input; each node shows its output and the "
                        "gradient that arrived there. Click a module's name to collapse it. "
                        "Red: exploding, violet: vanishing gradient.", static=still)
        except (ValueError, KeyError, TypeError) as exc:
            section.blocks.append(maker._failed(f"{name}-graph-explorer", "Graph explorer",
                                                exc))
    if explorer is not None:
        section.blocks.append(explorer)
    elif still is not None:
        section.blocks.append(still)
    else:
        section.blocks.append(Block("note", text="No graph.dot in this run."))
    return section


def _is_classifier(pred: Any) -> bool:
    return pred is not None and "probs" in pred and "targets" in pred


def confusion_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Confusion matrix")
    pred = _data(run, "predictions")
    if not _is_classifier(pred):
        section.note = ("Left out: no class predictions (predictions.npz with probs and "
                        "targets) — " + ("not a classifier." if pred is not None
                                         else "the run has no predictions.npz."))
        return section
    probs = np.asarray(pred["probs"])
    preds = np.asarray(pred["preds"]) if "preds" in pred else probs.argmax(axis=1)
    names = pred["class_names"] if "class_names" in pred else None
    still = maker.figure(
        f"{name}-confusion-matrix",
        lambda: plots.plot_confusion_matrix(pred["targets"], preds, names,
                                            num_classes=probs.shape[1]),
        title="Confusion matrix", caption="Rows: true class; columns: predicted class.")
    try:
        data = confusion_data(pred)
    except (ValueError, IndexError, KeyError) as exc:
        section.blocks.append(maker._failed(f"{name}-confusion-explorer", "Confusion matrix",
                                            exc))
        section.blocks.append(still)
    else:
        section.blocks.append(widget_block(
            "confusion", data, title="Counts (click a cell)",
            caption="Rows: true class; columns: predicted class; shade: share of the row. "
                    "Click a cell (or Enter on it) to see its misclassified examples.",
            static=still))
    section.blocks.append(maker.figure(
        f"{name}-per-class", lambda: plots.plot_per_class_metrics(
            pred["targets"], preds, names, num_classes=probs.shape[1]),
        title="Per-class recall, precision and F1"))
    return section


def gallery_section(run: Any, sid: str, maker: FigureMaker, name: str, k: int = 8) -> Section:
    section = Section(sid, "Misclassified examples")
    pred = _data(run, "predictions")
    if not _is_classifier(pred):
        section.note = "Left out: no class predictions in this run."
        return section
    if "gallery_images" not in pred or "gallery_index" not in pred:
        section.note = "Left out: predictions.npz stores no gallery images."
        return section
    probs = np.asarray(pred["probs"])
    targets = np.asarray(pred["targets"])
    preds = np.asarray(pred["preds"]) if "preds" in pred else None
    names = pred["class_names"] if "class_names" in pred else None
    wrong = plots.most_confident_errors(probs, targets, k, preds)
    if len(wrong):
        section.blocks.append(maker.figure(
            f"{name}-most-confident-mistakes", lambda: plots.plot_top_errors(
                probs, targets, pred["gallery_images"], k=k, class_names=names,
                image_index=pred["gallery_index"], preds=preds),
            title=f"The {len(wrong)} most confident mistakes",
            caption="Confidence is the probability given to the predicted class."))
    else:
        section.blocks.append(Block("note", text="No mistakes on this split."))
    right = plots.least_confident_correct(probs, targets, k, preds)
    if len(right):
        section.blocks.append(maker.figure(
            f"{name}-least-confident-correct", lambda: plots.plot_top_errors(
                probs, targets, pred["gallery_images"], k=k, class_names=names,
                image_index=pred["gallery_index"], preds=preds, correct=True),
            title=f"The {len(right)} least confident correct predictions"))
    return section


def conv_layers(run: Any, layers: Sequence[str]) -> list[str]:
    """The conv layers among ``layers``, by the layer types in model.txt (``conv1 (Conv2d)``);
    all of ``layers`` when the table does not say."""
    text = _data(run, "model_txt")
    convs: set[str] = set()
    if text:
        for row in plots.parse_summary(text).rows:
            match = re.match(r"^\s*(\S+)\s*\(([\w.]+)\)", row[0])
            if match and "conv" in match.group(2).lower():
                convs.add(match.group(1))
    chosen = [layer for layer in layers if layer in convs]
    return chosen or list(layers)


def features_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Filters and feature maps")
    acts = _data(run, "activations")
    if acts is None:
        section.note = "Left out: the run has no activations.npz."
        return section
    filters = filter_keys(acts)
    layers = feature_map_layers(acts)
    if not filters and not layers:
        section.note = "Left out: no convolutional layers (no layer output is an image)."
        return section
    for key in filters:
        layer = key.split("/", 1)[1]
        section.blocks.append(maker.figure(
            f"{name}-filters-{layer}", partial(plots.plot_filters, acts[key], layer=layer),
            title=f"Filters of {layer}"))
    if "inputs" in acts:
        layers = conv_layers(run, layers)
        for layer in layers[:MAX_FEATURE_LAYERS]:
            section.blocks.append(maker.figure(
                f"{name}-feature-maps-{layer}",
                partial(plots.plot_feature_maps, acts["inputs"], acts[layer], layer=layer,
                        n_images=3, max_channels=10),
                title=f"Feature maps of {layer}",
                caption="The same fixed test images for every layer; the most varied "
                        "channels, each on its own scale."))
        if len(layers) > MAX_FEATURE_LAYERS:
            section.blocks.append(Block("note", text=f"{len(layers) - MAX_FEATURE_LAYERS} more "
                                                     "layers recorded, not shown."))
    return section


def histograms_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Weights, gradients and activations")
    hist = _data(run, "histograms")
    if hist is None:
        section.note = "Left out: the run has no histograms.npz."
        return section
    for kind, label in KINDS.items():
        if not histogram_names(hist, kind):
            section.blocks.append(Block("note", text=f"No {label} recorded."))
            continue
        section.blocks.append(maker.figure(
            f"{name}-histograms-{kind}", partial(plots.plot_histograms, hist, kind),
            title=f"Distribution of {label} per layer"))
        if any(f"{kind}/{n}/stats" in hist for n in histogram_names(hist, kind)):
            section.blocks.append(maker.figure(
                f"{name}-stats-{kind}", partial(plots.plot_layer_stats, hist, kind),
                title=f"{label.capitalize()}: mean, std, min, max per layer"))
    found = saturation_names(hist)
    if found["dead"] or found["saturated"]:
        section.blocks.append(maker.figure(
            f"{name}-saturation", lambda: plots.plot_unit_saturation(hist),
            title="Dead and saturated units"))
    return section


def boundary_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Decision boundary")
    b = _data(run, "boundary")
    if b is None:
        section.note = ("Left out: no boundary.npz (only classifiers of 2-D points record "
                        "one).")
        return section
    probs = np.asarray(b["probs"])
    section.blocks.append(maker.figure(
        f"{name}-decision-boundary", lambda: plots.plot_decision_boundary(
            b["xx"], b["yy"], probs[-1], b.get("points"), b.get("labels"),
            title=f"decision boundary, epoch {int(np.asarray(b['epochs'])[-1])}"),
        title="Decision boundary after training",
        caption="Colour: predicted class (paler where unsure); line: where the classes tie."))
    if len(probs) > 1:
        section.blocks.append(maker.figure(
            f"{name}-decision-boundary-epochs", lambda: plots.plot_boundary_sequence(
                b["xx"], b["yy"], probs, b["epochs"], b.get("points"), b.get("labels")),
            title="Decision boundary over the epochs"))
    return section


def denoise_section(run: Any, sid: str, maker: FigureMaker, name: str) -> Section:
    section = Section(sid, "Denoising")
    pred = _data(run, "predictions")
    if pred is None or not all(k in pred for k in ("clean", "noisy", "recon")):
        section.note = "Left out: no reconstructions (not an autoencoder run)."
        return section
    section.blocks.append(maker.figure(
        f"{name}-denoising", lambda: plots.plot_denoising(
            pred["clean"], pred["noisy"], pred["recon"], mse_values=pred.get("mse"),
            psnr_values=pred.get("psnr")),
        title="Clean, noisy and reconstructed test images",
        caption="MSE and PSNR of each reconstruction against the clean image; under the "
                "noisy row, the PSNR of the noisy input."))
    return section


SECTIONS: list[tuple[str, Callable[..., Section]]] = [
    ("model", model_section),
    ("confusion", confusion_section),
    ("gallery", gallery_section),
    ("features", features_section),
    ("histograms", histograms_section),
    ("boundary", boundary_section),
    ("denoise", denoise_section),
]


def run_sections(run: Any, label: str, prefix: str, maker: FigureMaker,
                 with_curves: bool = True) -> list[Section]:
    """Every section of one run, in reading order; ``prefix`` keeps ids unique."""
    name = slug(label)
    out = [overview_section(run, f"{prefix}overview")]
    if with_curves:
        out.append(curves_section({label: run}, f"{prefix}curves", maker, name))
    for key, build in SECTIONS:
        out.append(build(run, f"{prefix}{key}", maker, name))
    return out


# ------------------------------------------------------------------ several runs


def comparison_sections(runs: Sequence[Any], labels: Sequence[str],
                        maker: FigureMaker) -> list[Section]:
    """Final metrics and configs side by side (best and differing values highlighted),
    the learning curves overlaid, and the decision boundaries next to each other."""
    section = Section("comparison", "Comparison")
    finals = [final_metrics(r) for r in runs]
    keys = list(dict.fromkeys(k for f in finals for k in f))
    rows: list[list[Cell]] = []
    for key in keys:
        values = [f.get(key) for f in finals]
        numbers = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        direction = lower_is_better(key)
        best = None
        if direction is not None and len(numbers) > 1 and len(set(numbers)) > 1:
            best = min(numbers) if direction else max(numbers)
        rows.append([Cell(key)] + [Cell(fmt(v, key), "best" if v is not None and v == best
                                        else "") for v in values])
    for key, getter in (("params", lambda r: (r.summary or {}).get("params")),
                        ("wall_time", lambda r: (r.summary or {}).get("wall_time")),
                        ("status", lambda r: (r.summary or {}).get("status"))):
        rows.append([Cell(key)] + [Cell(fmt(getter(r), key)) for r in runs])
    section.blocks.append(Block("table", title="Final metrics (best in bold)",
                                header=["metric", *labels], rows=rows))

    flat = [flatten(r.config or {}) for r in runs]
    ckeys = list(dict.fromkeys(k for f in flat for k in f))
    differ = [k for k in ckeys if len({repr(f.get(k)) for f in flat}) > 1]
    same = [k for k in ckeys if k not in differ]
    crow = [[Cell(k, "diff")] + [Cell(fmt(f.get(k)), "diff") for f in flat] for k in differ]
    crow += [[Cell(k)] + [Cell(fmt(f.get(k))) for f in flat] for k in same]
    section.blocks.append(Block("table", title=f"Configs ({len(differ)} differing keys "
                                               "highlighted, listed first)",
                                header=["key", *labels], rows=crow))
    out = [section, curves_section(dict(zip(labels, runs, strict=True)), "comparison-curves",
                                   maker, "comparison")]
    boundaries = {label: b for label, r in zip(labels, runs, strict=True)
                  if (b := _data(r, "boundary")) is not None}
    if len(boundaries) > 1:
        out.append(Section("comparison-boundaries", "Decision boundaries", [maker.figure(
            "comparison-decision-boundaries", lambda: plots.plot_decision_boundaries(boundaries),
            title="Final decision boundaries side by side")]))
    return out


# ------------------------------------------------------------------ a sweep


def sweep_section(sweep: Any, prefix: str = "") -> Section:
    """The sweep explorer: results table, parallel coordinates, curves, setting importance."""
    from deepgrad.lab.report.sweep_data import sweep_data

    section = Section(f"{prefix}sweep", f"Sweep: {sweep.name}")
    try:
        data = sweep_data(sweep.path)
    except (OSError, ValueError, KeyError) as exc:
        section.blocks.append(Block("error", text=f"The sweep could not be read: {exc}"))
        return section
    if not data["trials"]:
        section.note = "Left out: sweep.csv lists no trials yet."
        return section
    section.blocks.append(widget_block(
        "sweep", data, title="Sweep explorer",
        caption="Hover a table row to pick out its trial in the pictures."))
    return section
