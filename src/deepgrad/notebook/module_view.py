"""The notebook views of a model: ``Module`` as a tree of layers with their settings and
parameter counts, and ``ModelSummary`` (``deepgrad.summary``) as the table with each
layer's output shape.

A Module alone does not know its input size, so its view has no output shapes; the
summary's has (``deepgrad.summary(model, (1, 28, 28))`` in a notebook cell shows it).
Long models are cut at ``MAX_ROWS`` rows, saying how many were left out.
"""

from __future__ import annotations

from typing import Any

from .html import esc, frame, num, table

MAX_ROWS = 120
MAX_SETTINGS = 80  # characters of a layer's extra_repr shown


def _subtree_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def module_html(model: Any) -> str:
    """The HTML view of a Module (``Module._repr_html_``)."""
    rows = []
    named = list(model.named_modules())
    for name, module in named[:MAX_ROWS]:
        depth = name.count(".") + 1 if name else 0
        label = f"{name} " if name else ""
        settings = module.extra_repr().replace("\n", ", ")
        if len(settings) > MAX_SETTINGS:
            settings = settings[:MAX_SETTINGS - 1] + "…"
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append([f'<span style="padding-left:{12 * depth}px">{esc(label)}'
                     f"<b>{esc(module._get_name())}</b></span>",
                     f"<code>{esc(settings)}</code>" if settings else "", num(own) if own else "",
                     num(_subtree_params(module))])
    more = (f"<div>… {len(named) - MAX_ROWS:,} more modules</div>"
            if len(named) > MAX_ROWS else "")
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    foot = (f"<div>{num(total)} parameters ({num(trainable)} trainable) · "
            f"{esc('train' if model.training else 'eval')} mode</div>")
    return frame("module", model._get_name(),
                 table(["layer", "settings", "own params", "params"], rows), more, foot)


def summary_html(summary: Any) -> str:
    """The HTML view of a ``ModelSummary``: layer, output shape, parameters, totals."""
    rows = []
    for layer in summary.layers[:MAX_ROWS]:
        rows.append([f'<span style="padding-left:{12 * layer.depth}px">{esc(layer.name)} '
                     f"<b>{esc(layer.type)}</b></span>",
                     esc(summary._shape_text(layer.output_shape)),
                     "(shared)" if layer.repeat else num(layer.num_params)])
    more = (f"<div>… {len(summary.layers) - MAX_ROWS:,} more layers</div>"
            if len(summary.layers) > MAX_ROWS else "")
    inputs = ", ".join(str(list(s)) for s in summary.input_shapes)
    foot = (f"<div>{num(summary.total_params)} parameters "
            f"({num(summary.trainable_params)} trainable) · input {esc(inputs)} · "
            f"{summary.param_bytes / 1024**2:.2f} MB</div>")
    return frame("summary", f"{summary.model_name} summary",
                 table(["layer", "output shape", "params"], rows), more, foot)
