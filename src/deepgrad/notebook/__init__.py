"""deepgrad in Jupyter: the rich (HTML) views of tensors, models, histories, runs and
sweeps, each small, self-contained (inline SVG/PNG, no script) and escaped.

The classes' ``_repr_html_`` methods call the functions here; ``in_notebook`` tells
``fit`` whether to draw live curves (``deepgrad.lab.live``) or the text bar.
``deepgrad.lab.show`` puts a run's full report inline.
"""

from __future__ import annotations

from .detect import in_notebook
from .module_view import module_html, summary_html
from .run_view import history_html, run_html, sweep_html
from .tensor_view import tensor_html

__all__ = ["history_html", "in_notebook", "module_html", "run_html", "summary_html",
           "sweep_html", "tensor_html"]
