"""The network's graph as a picture: SVG for the report, a Figure for PNGs and notebooks.

The DOT text comes from ``deepgrad.viz.to_dot`` (the autograd graph) or
``deepgrad.viz.module_to_dot`` (the module tree), or a run's ``graph.dot``;
``graph_layout`` parses and lays it out.
"""

from __future__ import annotations

import shutil
import subprocess

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle

from deepgrad.lab.plots import graph_layout as viz
from deepgrad.lab.plots._common import figure_png

__all__ = ["graph_png", "graph_svg", "plot_graph"]


def graph_svg(dot: str, *, engine: str = "auto") -> str:
    """SVG text of the graph: Graphviz ``dot`` when installed, else the built-in drawing."""
    return viz.render_svg(dot, engine=engine)


def graph_png(dot: str, dpi: int = 200) -> bytes:
    """PNG bytes of the graph: Graphviz when installed, else the built-in drawing."""
    exe = shutil.which("dot")
    if exe is not None:
        try:
            result = subprocess.run([exe, "-Tpng", f"-Gdpi={dpi}"], input=dot.encode(),
                                    capture_output=True, timeout=60, check=True)
            if result.stdout.startswith(b"\x89PNG"):
                return result.stdout
        except (OSError, subprocess.SubprocessError):
            pass
    return figure_png(plot_graph(dot), dpi=dpi)


def _colour(value: str, default: str) -> str:
    return value if mpl.colors.is_color_like(value) else default


def plot_graph(dot: str, *, max_width: float = 14.0) -> Figure:
    """The built-in layered drawing of a DOT graph as a Figure (no Graphviz needed)."""
    layout = viz.layout_dot(dot)
    scale = min(1.0, max_width * 72 / max(layout.width, 1.0))
    fig = Figure(figsize=(layout.width * scale / 72, layout.height * scale / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)  # SVG coordinates: y grows downwards
    ax.axis("off")
    for points in layout.edges:
        for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1], strict=False):
            ax.plot([x0, x1], [y0, y1], color="#5b6b7f", lw=1.0 * scale + 0.2)
        (xa, ya), (xb, yb) = points[-2], points[-1]
        ax.add_patch(FancyArrowPatch((xa, ya), (xb, yb), arrowstyle="-|>",
                                     mutation_scale=9 * scale + 2, color="#5b6b7f",
                                     lw=1.0 * scale + 0.2, shrinkA=0, shrinkB=0))
    for node in layout.nodes:
        fill = _colour(node.fill, "#ffffff")
        stroke = _colour(node.stroke, "#5b6b7f")
        x0, y0 = node.x - node.width / 2, node.y - node.height / 2
        patch: Ellipse | Rectangle | FancyBboxPatch
        if node.shape in {"ellipse", "oval", "circle"}:
            patch = Ellipse((node.x, node.y), node.width, node.height, fc=fill, ec=stroke)
        elif node.shape == "rounded":
            patch = FancyBboxPatch((x0, y0), node.width, node.height,
                                   boxstyle="round,pad=0,rounding_size=5", fc=fill, ec=stroke)
        else:
            patch = Rectangle((x0, y0), node.width, node.height, fc=fill, ec=stroke)
        ax.add_patch(patch)
        first = node.y - (len(node.lines) - 1) * viz.LINE_HEIGHT / 2
        for k, line in enumerate(node.lines):
            ax.text(node.x, first + k * viz.LINE_HEIGHT, line, ha="center", va="center",
                    fontsize=9.0 * scale, color="#1d2733",
                    fontweight="bold" if k == 0 and len(node.lines) > 1 else "normal")
    return fig
