"""What the report shows: sections built from run folders, each with its figures and tables.

Every section asks the run for the data it needs and, when the run does not
have it, becomes a one-line note instead of an error. A figure that fails to
draw becomes a note naming the error (and a warning), so one bad array never
costs the whole report. The building blocks (sections, blocks, the figure maker, value
formatting) are ``blocks``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.lab import plots
from deepgrad.lab.plots._common import get
from deepgrad.lab.plots.features import feature_map_layers, filter_keys
from deepgrad.lab.plots.histograms import KINDS, histogram_names, saturation_names
from deepgrad.lab.report.blocks import (  # noqa: F401 - re-exported where they were
    HTML_DPI,
    MAX_FEATURE_LAYERS,
    PNG_DPI,
    Block,
    Cell,
    FigureMaker,
    Section,
    _close_all,
    _data,
    final_metrics,
    flatten,
    fmt,
    json_for_html,
    lower_is_better,
    run_label,
    slug,
    unique_labels,
    widget_block,
)
from deepgrad.lab.report.confusion_data import confusion_data
from deepgrad.lab.report.curve_data import curve_data
from deepgrad.lab.report.graph_data import graph_data

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
