"""``deepgrad.lab.show(run)``: a run's full report inside a notebook.

The report (``deepgrad.lab.report.build_report``, the same page ``deepgrad report``
writes) goes into an ``<iframe srcdoc=...>`` with ``sandbox="allow-scripts
allow-downloads"``: the page runs in an opaque origin of its own (downloads allowed for
the curves' CSV button), so its styles, its Content-Security-Policy and any script it
carries cannot touch the notebook, and the notebook's CSS cannot restyle it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from deepgrad.notebook.detect import in_notebook
from deepgrad.notebook.html import esc

__all__ = ["InlineReport", "inline_report", "show"]


class InlineReport:
    """A report ready to be shown inline; Jupyter calls ``_repr_html_``."""

    def __init__(self, report_html: str, title: str, height: int = 720) -> None:
        if not isinstance(height, int) or height < 100:
            raise ValueError(f"show: height must be an int >= 100 pixels, got {height!r}")
        self.report_html = report_html
        self.title = title
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe class="deepgrad-report-frame" title="{esc(self.title)}" '
                f'sandbox="allow-scripts allow-downloads" srcdoc="{esc(self.report_html)}" '
                f'style="width:100%;box-sizing:border-box;height:{self.height}px;'
                f'border:1px solid #ccd;resize:vertical"></iframe>')

    def __repr__(self) -> str:
        return f"InlineReport({self.title!r}, {len(self.report_html):,} characters of HTML)"


def inline_report(runs: Any | Sequence[Any], height: int = 720) -> InlineReport:
    """The ``InlineReport`` of one run (a path, a Run, or a History that wrote a run folder)
    or of several runs compared."""
    from deepgrad.lab.report import build_report

    targets = _targets(runs)
    html = build_report(targets if len(targets) > 1 else targets[0])
    names = ", ".join(os.path.basename(str(getattr(t, "path", t))) for t in targets)
    return InlineReport(html, f"deepgrad report: {names}", height)


def show(runs: Any | Sequence[Any], height: int = 720) -> None:
    """Show the report of ``runs`` inline in the notebook, isolated from the page.

    ``runs`` is a run folder's path, a ``Run``, the ``History`` of a ``fit`` that had a
    ``run_dir``, or a list of them (a comparison). It returns nothing, so the report
    shows once wherever the call is; ``inline_report`` returns the object instead."""
    if not in_notebook():
        raise RuntimeError("deepgrad.lab.show draws in a Jupyter notebook; outside one, write "
                           "the page with `deepgrad report RUN` or "
                           "deepgrad.lab.report.write_report(run)")
    from IPython.display import display

    display(inline_report(runs, height))


def _targets(runs: Any) -> list[Any]:
    single = isinstance(runs, (str, os.PathLike)) or hasattr(runs, "metrics") or \
        hasattr(runs, "run_dir")
    items = [runs] if single else list(runs)
    if not items:
        raise ValueError("show: no runs given")
    out = []
    for item in items:
        if hasattr(item, "run_dir") and not hasattr(item, "metrics"):  # a History
            if item.run_dir is None:
                raise ValueError("show: this History wrote no run folder; call fit with "
                                 "run_dir=... or runs_root=... to get a report")
            item = item.run_dir
        out.append(item)
    return out
