"""Pictures of a network as Graphviz DOT: the autograd graph or the module tree.

``to_dot(loss)`` walks ``grad_fn``/``next_functions`` from an output back to its
leaves (as torchviz does) and writes one node per ``Function`` call, leaf
parameters named by their module path when ``params=dict(model.named_parameters())``
is given. ``module_to_dot(model)`` draws the module tree instead. Turning DOT
into SVG (Graphviz, or a built-in layered drawing) is the lab's job:
``deepgrad.lab.plots.graph_layout``, beside the report that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["model_params", "module_to_dot", "to_dot"]

OP_FILL = "#e8edf3"
PARAM_FILL = "#cfe3fb"
INPUT_FILL = "#eeeeee"
OUTPUT_FILL = "#cdebd0"
MODULE_FILL = "#fdf0d5"

_HEADER = (
    '  graph [rankdir=TB, nodesep=0.25, ranksep=0.35, fontname="Helvetica"];\n'
    '  node [shape=box, style="rounded,filled", fillcolor="{fill}", fontname="Helvetica",'
    " fontsize=11, color=\"#5b6b7f\"];\n"
    '  edge [color="#5b6b7f", arrowsize=0.7];\n'
)


def _quote(text: str) -> str:
    """A DOT string literal; newlines become DOT's centred line break ``\\n``."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _shape_text(shape: Sequence[int]) -> str:
    return str(tuple(int(s) for s in shape)) if len(shape) else "scalar"


def to_dot(
    output: Any,
    params: Mapping[str, Any] | None = None,
    *,
    show_shapes: bool = True,
    show_inputs: bool = True,
    name: str = "autograd",
) -> str:
    """Graphviz DOT text of the autograd graph that produced ``output``.

    ``output`` is a Tensor (or a list of them) with a ``grad_fn``. Data flows top
    to bottom: leaves (parameters, blue; data inputs, grey) feed ``Function``
    nodes, which feed the output (green). The walk is iterative, so very deep
    graphs are fine.
    """
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    param_names = {id(p): n for n, p in (params or {}).items()}
    ids: dict[Any, str] = {}
    lines: list[str] = []
    edges: list[str] = []
    produced_shape: dict[int, tuple[int, ...]] = {}

    def node_id(obj: Any) -> str:
        key = (id(obj[0]), obj[1]) if isinstance(obj, tuple) else id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    stack: list[Any] = []
    for i, out in enumerate(outputs):
        oid = f"out{i}"
        label = "output" if len(outputs) == 1 else f"output {i}"
        if show_shapes:
            label += "\n" + _shape_text(out.shape)
        lines.append(f"  {oid} [label={_quote(label)}, fillcolor=\"{OUTPUT_FILL}\"];")
        fn = getattr(out, "grad_fn", None)
        if fn is None:
            continue
        produced_shape[id(fn)] = tuple(out.shape)
        edges.append(f"  {node_id(fn)} -> {oid};")
        stack.append(fn)

    seen: set[int] = set()
    order: list[Any] = []
    while stack:  # depth-first, explicit stack: no recursion limit
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        inputs = getattr(fn, "edges", ()) or ()  # per input: (node or None, shape) or None
        parents: list[Any] = []
        for k, (parent, _) in enumerate(getattr(fn, "next_functions", ())):
            shape = inputs[k][1] if k < len(inputs) and inputs[k] is not None else None
            if parent is None:
                if show_inputs and shape is not None and len(shape) >= 2:
                    tid = node_id((fn, k))
                    label = "input" + ("\n" + _shape_text(shape) if show_shapes else "")
                    lines.append(f"  {tid} [label={_quote(label)}, shape=ellipse, "
                                 f"style=filled, fillcolor=\"{INPUT_FILL}\"];")
                    edges.append(f"  {tid} -> {node_id(fn)};")
                continue
            if shape is not None and id(parent) not in produced_shape:
                produced_shape[id(parent)] = tuple(shape)
            edges.append(f"  {node_id(parent)} -> {node_id(fn)};")
            parents.append(parent)
        stack.extend(reversed(parents))  # first input is visited (and drawn) first

    for fn in order:
        variable = getattr(fn, "variable", None)
        if variable is not None:  # AccumulateGrad: a leaf that requires grad
            label = param_names.get(id(variable), "parameter")
            if show_shapes:
                label += "\n" + _shape_text(variable.shape)
            lines.append(f"  {node_id(fn)} [label={_quote(label)}, fillcolor=\"{PARAM_FILL}\"];")
            continue
        label = fn.name() if hasattr(fn, "name") else type(fn).__name__
        if show_shapes and id(fn) in produced_shape:
            label += "\n" + _shape_text(produced_shape[id(fn)])
        lines.append(f"  {node_id(fn)} [label={_quote(label)}];")

    body = "\n".join(lines + edges)
    return f"digraph {name} {{\n" + _HEADER.format(fill=OP_FILL) + body + "\n}\n"


def _count(params: Any) -> int:
    total = 0
    for p in params:
        total += int(math.prod(p.shape))
    return total


def _direct_parameters(module: Any) -> list[tuple[str, Any]]:
    try:
        return list(module.named_parameters(recurse=False))
    except TypeError:  # a Module without the recurse flag: fall back on its own dict
        return list(getattr(module, "_parameters", {}).items())


def module_to_dot(model: Any, *, name: str = "modules") -> str:
    """Graphviz DOT text of the module tree: one node per module, parent above children.

    Each node names the attribute path and the class (with ``extra_repr`` when the
    module has one) and counts the parameters it holds, its children's included.
    """
    lines: list[str] = []
    edges: list[str] = []
    stack: list[tuple[str, Any, str | None]] = [("", model, None)]
    counter = 0
    while stack:
        path, module, parent = stack.pop()
        nid = f"m{counter}"
        counter += 1
        kind = type(module).__name__
        extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
        title = f"{path}: {kind}" if path else kind
        if extra and len(extra) <= 48:
            title += f"\n{extra}"
        total = _count(p for _, p in model_params(module))
        own = _direct_parameters(module)
        detail = "  ".join(f"{n} {_shape_text(p.shape)}" for n, p in own if p is not None)
        label = title + (f"\n{detail}" if detail and len(detail) <= 60 else "")
        label += f"\n{total:,} params"
        leaf = not list(module.named_children())
        fill = PARAM_FILL if leaf and total else MODULE_FILL
        lines.append(f"  {nid} [label={_quote(label)}, fillcolor=\"{fill}\"];")
        if parent is not None:
            edges.append(f"  {parent} -> {nid};")
        children = list(module.named_children())
        for child_name, child in reversed(children):
            stack.append((f"{path}.{child_name}" if path else child_name, child, nid))
    body = "\n".join(lines + edges)
    return f"digraph {name} {{\n" + _HEADER.format(fill=MODULE_FILL) + body + "\n}\n"


def model_params(module: Any) -> list[tuple[str, Any]]:
    """All parameters of ``module`` (children included), as ``named_parameters`` gives them."""
    return [(n, p) for n, p in module.named_parameters() if p is not None]
