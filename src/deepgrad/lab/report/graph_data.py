"""A run's ``graph_trace.json`` laid out for the page's graph explorer (static/graph.js).

The positions come from the report's own layered layout (``plots.graph_layout``:
longest-path ranks, barycentre ordering), so the page draws boxes where the still
graph picture would; edges are drawn by the page between whatever is shown (a
collapsed module is one box). Nodes are grouped by the top-level module that ran
them (``features`` for ``features.3``); the input and the loss stand alone.
"""

from __future__ import annotations

from typing import Any

from deepgrad.lab.plots.graph_layout import layout_dot

__all__ = ["graph_data", "group_of", "node_text"]


def group_of(node: dict[str, Any]) -> str:
    return str(node.get("module") or "").split(".", 1)[0]


def node_text(node: dict[str, Any]) -> list[str]:
    """The lines of a node's box: its name, then its output shape."""
    shape = node.get("shape")
    return [str(node["label"]), "×".join(str(s) for s in shape) if shape else "scalar"
            if shape == [] else "?"]


def graph_data(trace: dict[str, Any]) -> dict[str, Any]:
    """The trace with ``layout`` (x, y, w, h per node id), the size and the module groups."""
    nodes = trace["nodes"]
    ids = {int(n["id"]) for n in nodes}
    for a, b in trace["edges"]:
        if a not in ids or b not in ids:
            raise ValueError(f"graph_trace.json: an edge {a} -> {b} names a node that is not "
                             f"listed (nodes {sorted(ids)})")
    lines = []
    for n in nodes:
        label = "\\n".join(t.replace('"', "'") for t in node_text(n))
        lines.append(f'  n{n["id"]} [label="{label}"];')
    lines += [f"  n{a} -> n{b};" for a, b in trace["edges"]]
    laid = layout_dot("digraph g {\n" + "\n".join(lines) + "\n}\n")
    layout = {node.name[1:]: [round(node.x, 1), round(node.y, 1), round(node.width, 1),
                              round(node.height, 1)] for node in laid.nodes}
    groups: dict[str, list[int]] = {}
    for n in nodes:
        if group_of(n):
            groups.setdefault(group_of(n), []).append(int(n["id"]))
    return {**trace, "layout": layout, "width": round(laid.width, 1),
            "height": round(laid.height, 1), "groups": groups,
            "text": {str(n["id"]): node_text(n) for n in nodes}}
