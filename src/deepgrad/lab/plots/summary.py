"""The model summary table (layers, output shapes, parameter counts).

A run folder keeps it as text (``model.txt``, written by ``deepgrad.summary``);
``parse_summary`` turns any column-aligned table back into rows, and
``summary_rows`` builds rows straight from a module tree (torch-style
``named_modules``/``named_parameters``) for notebooks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure

from deepgrad.lab.plots._common import new_figure, styled

__all__ = ["SummaryTable", "parse_summary", "plot_summary", "summary_rows"]

_RULE = re.compile(r"^[\s\-=_+|─━═┄┈╌]*$")
_SPLIT = re.compile(r"\s{2,}|\s*\|\s*|\t")


@dataclass
class SummaryTable:
    """A header, rows of cells (all the header's length) and the lines after the table."""

    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c for c in _SPLIT.split(line.strip()) if c != ""]


def parse_summary(text: str) -> SummaryTable:
    """Rows of a column-aligned text table: columns split on runs of 2+ spaces or ``|``.

    The first line with two or more cells is the header; lines with as many
    cells are rows, found in order; everything else that is not a rule
    (``Total params: ...``) is kept as a note.
    """
    header: list[str] = []
    rows: list[list[str]] = []
    notes: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _RULE.match(line):
            continue
        cells = _cells(line)
        if not header:
            if len(cells) >= 2:
                header = cells
            else:
                notes.append(line.strip())
            continue
        if len(cells) == len(header):
            rows.append(cells)
        elif len(cells) == len(header) - 1 and line.startswith(" "):
            rows.append([""] + cells)  # an indented row with an empty first column
        else:
            notes.append(line.strip())
    return SummaryTable(header, rows, notes)


def summary_rows(model: Any) -> SummaryTable:
    """One row per module (attribute path, class, its own parameter shapes and count)."""
    rows: list[list[str]] = []
    total = 0
    trainable = 0
    for name, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        count = sum(int(math.prod(p.shape)) for _, p in own)
        shapes = ", ".join(f"{n} {tuple(p.shape)}" for n, p in own)
        rows.append([name or "(root)", type(module).__name__, shapes, f"{count:,}"])
        total += count
        trainable += sum(int(math.prod(p.shape)) for _, p in own if p.requires_grad)
    return SummaryTable(["layer", "type", "parameters", "count"], rows,
                        [f"Total params: {total:,}", f"Trainable params: {trainable:,}"])


@styled
def plot_summary(table: SummaryTable | str, *, title: str = "model summary") -> Figure:
    """The summary as a table figure, for slides (the report shows it as an HTML table)."""
    if isinstance(table, str):
        table = parse_summary(table)
    if not table.header:
        raise ValueError("plot_summary: no table found in the summary text")
    widths = [max([len(table.header[j])] + [len(r[j]) for r in table.rows])
              for j in range(len(table.header))]
    body = [list(r) for r in table.rows] or [[""] * len(table.header)]
    notes = [[note] + [""] * (len(table.header) - 1) for note in table.notes]
    fig = new_figure(max(4.0, 0.085 * sum(widths) + 0.6), 0.24 * (len(body) + len(notes) + 1) + 0.5)
    ax = fig.add_subplot()
    ax.axis("off")
    shown = ax.table(cellText=body + notes, colLabels=table.header,
                     colWidths=[w / sum(widths) for w in widths], loc="upper center",
                     cellLoc="left", colLoc="left", edges="horizontal")
    shown.auto_set_font_size(False)
    shown.set_fontsize(8)
    shown.scale(1.0, 1.25)
    for (row, _), cell in shown.get_celld().items():
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eef1f5")
        elif row > len(body):  # the notes: no rules, italic
            cell.set_text_props(fontstyle="italic")
            cell.visible_edges = ""
    ax.set_title(title)
    return fig
