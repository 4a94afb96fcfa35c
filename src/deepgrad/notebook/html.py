"""The HTML building blocks of the notebook views: escaping, tables and the view's frame.

Every view is one ``<div class="deepgrad-view ...">`` with its own small inline
style, so a notebook (and the test that opens the exported HTML) can find it,
and nothing it shows reaches the page unescaped: text goes through ``esc``,
numbers through ``num``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

STYLE = ("font-family:system-ui,sans-serif;font-size:12px;line-height:1.35;"
         "border:1px solid #ccd;border-radius:4px;padding:6px 8px;margin:2px 0;"
         "display:inline-block;max-width:100%;overflow:auto")
# One rule for the cells of every view, scoped to the views' class (a style attribute on
# each cell would make a 120-row model view 50 KB instead of 20).
# The selectors outrank JupyterLab's ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td``
# (which right-aligns cells): two classes and three elements against two classes and one.
CELL_RULE = ("div.deepgrad-view table.deepgrad-table td,"
             "div.deepgrad-view table.deepgrad-table th{padding:1px 8px;text-align:left;"
             "border-bottom:1px solid #eee}")


def esc(value: Any) -> str:
    """Any value as HTML text, quotes included (safe inside attributes too)."""
    return html.escape(str(value), quote=True)


def num(value: Any, digits: int = 4) -> str:
    """A number as short text (``1.234e-05``, ``0.9812``, ``3,274,634``); NaN/inf/None shown."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A small table; ``header`` is escaped, ``rows`` must already be HTML (esc/num)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<table class="deepgrad-table {esc(cls)}" '
            'style="border-collapse:collapse;margin:4px 0;font-size:12px">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def frame(kind: str, title: str, *parts: str) -> str:
    """The outer box of a view: ``kind`` names it (class ``deepgrad-<kind>``), ``title`` is
    escaped, ``parts`` are HTML already."""
    return (f'<div class="deepgrad-view deepgrad-{esc(kind)}" style="{STYLE}">'
            f"<style>{CELL_RULE}</style>"
            f'<div style="font-weight:600;margin-bottom:3px">{esc(title)}</div>'
            + "".join(parts) + "</div>")
