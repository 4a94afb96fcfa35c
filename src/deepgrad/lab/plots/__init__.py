"""Figures of a run, one family per module; each function takes run data, returns a Figure.

Everything here works in a notebook as well as in the report::

    from deepgrad.lab import plots
    run = deepgrad.lab.runs.load_run("runs/mnist-...")
    plots.plot_learning_curves(run)
    p = run.predictions
    plots.plot_confusion_matrix(p["targets"], p["preds"], p["class_names"])
"""

from __future__ import annotations

from deepgrad.lab.plots._common import figure_png, save_png
from deepgrad.lab.plots.boundary import (
    boundary_grid,
    plot_boundary_sequence,
    plot_decision_boundaries,
    plot_decision_boundary,
)
from deepgrad.lab.plots.confusion import (
    confusion_matrix,
    per_class_metrics,
    plot_confusion_matrix,
    plot_per_class_metrics,
)
from deepgrad.lab.plots.curves import metric_names, plot_learning_curves, plot_lr, smooth
from deepgrad.lab.plots.denoise import mse, plot_denoising, psnr
from deepgrad.lab.plots.features import plot_feature_maps, plot_filters
from deepgrad.lab.plots.gallery import (
    least_confident_correct,
    most_confident_errors,
    plot_gallery,
    plot_top_errors,
)
from deepgrad.lab.plots.graph import graph_svg, plot_graph
from deepgrad.lab.plots.histograms import plot_histograms, plot_layer_stats, plot_unit_saturation
from deepgrad.lab.plots.summary import parse_summary, plot_summary, summary_rows

__all__ = [
    "boundary_grid",
    "confusion_matrix",
    "figure_png",
    "graph_svg",
    "least_confident_correct",
    "metric_names",
    "most_confident_errors",
    "mse",
    "parse_summary",
    "per_class_metrics",
    "plot_boundary_sequence",
    "plot_confusion_matrix",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_denoising",
    "plot_feature_maps",
    "plot_filters",
    "plot_gallery",
    "plot_graph",
    "plot_histograms",
    "plot_layer_stats",
    "plot_learning_curves",
    "plot_lr",
    "plot_per_class_metrics",
    "plot_summary",
    "plot_top_errors",
    "plot_unit_saturation",
    "psnr",
    "save_png",
    "smooth",
    "summary_rows",
]
