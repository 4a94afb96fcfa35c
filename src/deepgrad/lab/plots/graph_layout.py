"""DOT to pictures without Graphviz: parse the DOT subset deepgrad writes, lay it out, draw SVG.

``render_svg`` uses Graphviz's ``dot`` when it is installed and otherwise a
small built-in layered drawing (longest-path ranks, barycentre ordering), so
a report never shows a missing picture. ``layout_dot`` gives the positions
``plot_graph`` draws with matplotlib. The DOT itself comes from
``deepgrad.viz.to_dot`` / ``module_to_dot`` (the core), or a run's graph.dot.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

__all__ = ["DotGraph", "GraphLayout", "LaidOutNode", "layout_dot", "parse_dot", "render_svg"]


# --------------------------------------------------------------------------- DOT parsing

_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"'  # quoted string
    r"|<(?:[^<>]|<[^<>]*>)*>"  # HTML-like label (one level of nesting)
    r"|->|--"
    r"|[{}\[\];,=:]"
    r"|[^\s{}\[\];,=\"<>:]+",
    re.S,
)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*|^\s*#[^\n]*", re.S | re.M)


@dataclass
class DotGraph:
    """The subset of a DOT file the built-in renderer draws: nodes, edges, attributes."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    graph_attrs: dict[str, str] = field(default_factory=dict)


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"'):
        return re.sub(r'\\(["\\])', r"\1", token[1:-1])
    if token.startswith("<") and token.endswith(">"):
        return re.sub(r"<[^>]*>", " ", token[1:-1]).strip()
    return token


def parse_dot(text: str) -> DotGraph:
    """Parse the common subset of DOT: node/edge statements, attribute lists, defaults.

    Subgraphs are flattened; ports (``a:n``) are dropped. Enough for the graphs
    deepgrad writes and most hand-written ones.
    """
    tokens = _TOKEN.findall(_COMMENT.sub("", text))
    graph = DotGraph()
    node_defaults: dict[str, str] = {}
    edge_defaults: dict[str, str] = {}
    i = 0

    def attr_list() -> dict[str, str]:
        nonlocal i
        attrs: dict[str, str] = {}
        while i < len(tokens) and tokens[i] == "[":
            i += 1
            while i < len(tokens) and tokens[i] != "]":
                if tokens[i] in {",", ";"}:
                    i += 1
                    continue
                key = _unquote(tokens[i])
                if i + 2 < len(tokens) and tokens[i + 1] == "=":
                    attrs[key] = _unquote(tokens[i + 2])
                    i += 3
                else:
                    attrs[key] = "true"
                    i += 1
            i += 1
        return attrs

    def add_node(name: str, attrs: Mapping[str, str] | None = None) -> None:
        if name not in graph.nodes:
            graph.nodes[name] = dict(node_defaults)
        if attrs:
            graph.nodes[name].update(attrs)

    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        if low in {"strict", "digraph", "graph", "subgraph"} and i + 1 < len(tokens) \
                and tokens[i + 1] not in {"[", "="}:
            i += 2 if tokens[i + 1] != "{" else 1  # keyword and optional name
            continue
        if tok in {"{", "}", ";", ","}:
            i += 1
            continue
        if low in {"graph", "node", "edge"} and i + 1 < len(tokens) and tokens[i + 1] == "[":
            i += 1
            attrs = attr_list()
            {"graph": graph.graph_attrs, "node": node_defaults, "edge": edge_defaults}[low] \
                .update(attrs)
            continue
        if i + 1 < len(tokens) and tokens[i + 1] == "=":  # graph attribute: key = value
            if i + 2 < len(tokens):
                graph.graph_attrs[_unquote(tok)] = _unquote(tokens[i + 2])
            i += 3
            continue
        chain = [_unquote(tok)]
        i += 1
        while i < len(tokens) and tokens[i] == ":":  # drop ports
            i += 2
        while i + 1 < len(tokens) and tokens[i] in {"->", "--"}:
            chain.append(_unquote(tokens[i + 1]))
            i += 2
            while i < len(tokens) and tokens[i] == ":":
                i += 2
        attrs = attr_list()
        if len(chain) == 1:
            add_node(chain[0], attrs)
        else:
            for a, b in zip(chain, chain[1:], strict=False):
                add_node(a)
                add_node(b)
                graph.edges.append((a, b, {**edge_defaults, **attrs}))
    return graph


# --------------------------------------------------------------------------- layout

CHAR_WIDTH = 6.6  # px per character of the 11 px sans-serif label font (a fair upper estimate)
LINE_HEIGHT = 14.0
PAD_X, PAD_Y = 10.0, 6.0
NODE_GAP, RANK_GAP = 18.0, 30.0
MARGIN = 10.0


@dataclass
class LaidOutNode:
    name: str
    lines: list[str]
    x: float  # centre
    y: float  # centre
    width: float
    height: float
    shape: str
    fill: str
    stroke: str


@dataclass
class GraphLayout:
    """Node boxes and edge polylines in pixels, top-left origin: what both renderers draw."""

    nodes: list[LaidOutNode]
    edges: list[list[tuple[float, float]]]
    width: float
    height: float


def _label_lines(name: str, attrs: Mapping[str, str]) -> list[str]:
    label = attrs.get("label", name)
    if label == "\\N":
        label = name
    parts = re.split(r"\\[nlr]|\n", label)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return parts or [""]


def _break_cycles(n: int, succ: list[list[int]]) -> list[tuple[int, int]]:
    """Edges of a DAG: DFS back edges are reversed (the graph is drawn, not changed)."""
    state = [0] * n  # 0 new, 1 on stack, 2 done
    edges: list[tuple[int, int]] = []
    for start in range(n):
        if state[start]:
            continue
        stack = [(start, 0)]
        state[start] = 1
        while stack:
            v, k = stack.pop()
            if k < len(succ[v]):
                stack.append((v, k + 1))
                w = succ[v][k]
                if state[w] == 1:
                    edges.append((w, v))  # back edge: reverse it
                else:
                    edges.append((v, w))
                    if state[w] == 0:
                        state[w] = 1
                        stack.append((w, 0))
            else:
                state[v] = 2
    return edges


def _ranks(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest path from the sources (Kahn's order), so every edge points down."""
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    sources = [indeg[v] == 0 for v in range(n)]
    rank = [0] * n
    queue = [v for v in range(n) if indeg[v] == 0]
    head = 0
    while head < len(queue):
        v = queue[head]
        head += 1
        for w in succ[v]:
            rank[w] = max(rank[w], rank[v] + 1)
            indeg[w] -= 1
            if indeg[w] == 0:
                queue.append(w)
    # pull sources down next to their first consumer (parameters sit beside their op)
    for v in range(n):
        if sources[v] and succ[v] and all(rank[v] < rank[w] - 1 for w in succ[v]):
            rank[v] = min(rank[w] for w in succ[v]) - 1
    return rank


def layout_dot(dot: str | DotGraph) -> GraphLayout:
    """Lay a DOT graph out in ranks (top to bottom) with boxes sized to their labels."""
    graph = parse_dot(dot) if isinstance(dot, str) else dot
    names = list(graph.nodes)
    index = {name: k for k, name in enumerate(names)}
    n_real = len(names)
    succ: list[list[int]] = [[] for _ in range(n_real)]
    for tail, head, _ in graph.edges:
        if tail != head and index[head] not in succ[index[tail]]:
            succ[index[tail]].append(index[head])
    dag = _break_cycles(n_real, succ)
    rank = _ranks(n_real, dag)

    widths: list[float] = []
    heights: list[float] = []
    lines_of: list[list[str]] = []
    for name in names:
        attrs = graph.nodes[name]
        lines = _label_lines(name, attrs)
        size = float(attrs.get("fontsize", 11)) / 11.0
        w = max(len(s) for s in lines) * CHAR_WIDTH * size + 2 * PAD_X
        h = len(lines) * LINE_HEIGHT * size + 2 * PAD_Y
        if attrs.get("shape", "box") in {"ellipse", "oval", "circle"}:
            w *= 1.25
            h += 4
        widths.append(max(w, 36.0))
        heights.append(h)
        lines_of.append(lines)

    # split edges longer than one rank with dummy nodes, so they route between boxes
    chains: list[list[int]] = []
    for a, b in dag:
        chain = [a]
        for r in range(rank[a] + 1, rank[b]):
            rank.append(r)
            widths.append(2.0)
            heights.append(0.0)
            chain.append(len(rank) - 1)
        chain.append(b)
        chains.append(chain)
    n = len(rank)
    up: list[list[int]] = [[] for _ in range(n)]
    down: list[list[int]] = [[] for _ in range(n)]
    for chain in chains:
        for u, v in zip(chain, chain[1:], strict=False):
            down[u].append(v)
            up[v].append(u)

    n_ranks = max(rank, default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(n_ranks)]
    for v in range(n):
        layers[rank[v]].append(v)
    pos = [0.0] * n
    for layer in layers:
        for k, v in enumerate(layer):
            pos[v] = float(k)

    def crossings_order(layer: list[int], neighbours: list[list[int]]) -> list[int]:
        def key(v: int) -> float:
            ns = neighbours[v]
            return sum(pos[u] for u in ns) / len(ns) if ns else pos[v]
        layer.sort(key=key)
        for k, v in enumerate(layer):
            pos[v] = float(k)
        return layer

    for sweep in range(8):  # barycentre heuristic, alternating down and up
        if sweep % 2 == 0:
            for r in range(1, n_ranks):
                layers[r] = crossings_order(layers[r], up)
        else:
            for r in range(n_ranks - 2, -1, -1):
                layers[r] = crossings_order(layers[r], down)

    x = [0.0] * n
    for layer in layers:
        cursor = 0.0
        for v in layer:
            x[v] = cursor + widths[v] / 2
            cursor += widths[v] + NODE_GAP

    def place(layer: list[int], neighbours: list[list[int]]) -> None:
        if not layer:
            return
        want = [sum(x[u] for u in neighbours[v]) / len(neighbours[v]) if neighbours[v] else x[v]
                for v in layer]
        left = list(want)
        for k in range(1, len(layer)):
            gap = (widths[layer[k - 1]] + widths[layer[k]]) / 2 + NODE_GAP
            left[k] = max(want[k], left[k - 1] + gap)
        right = list(want)
        for k in range(len(layer) - 2, -1, -1):
            gap = (widths[layer[k]] + widths[layer[k + 1]]) / 2 + NODE_GAP
            right[k] = min(want[k], right[k + 1] - gap)
        for k, v in enumerate(layer):
            x[v] = (left[k] + right[k]) / 2

    for sweep in range(6):  # pull nodes over their neighbours, keep order and spacing
        if sweep % 2 == 0:
            for r in range(1, n_ranks):
                place(layers[r], up)
        else:
            for r in range(n_ranks - 2, -1, -1):
                place(layers[r], down)

    row_height = [max((heights[v] for v in layer), default=0.0) for layer in layers]
    y = [0.0] * n
    top = MARGIN
    for r, layer in enumerate(layers):
        for v in layer:
            y[v] = top + row_height[r] / 2
        top += row_height[r] + RANK_GAP
    left_edge = min((x[v] - widths[v] / 2 for v in range(n)), default=0.0)
    shift = MARGIN - left_edge
    x = [xv + shift for xv in x]
    width = max((x[v] + widths[v] / 2 for v in range(n)), default=0.0) + MARGIN
    height = max(top - RANK_GAP + MARGIN, 2 * MARGIN)

    nodes = []
    for v, name in enumerate(names):
        attrs = graph.nodes[name]
        style = attrs.get("style", "")
        fill = attrs.get("fillcolor", attrs.get("color", "#ffffff")) if "filled" in style \
            else "#ffffff"
        shape = attrs.get("shape", "box")
        if shape == "box" and "rounded" in style:
            shape = "rounded"
        nodes.append(LaidOutNode(name, lines_of[v], x[v], y[v], widths[v], heights[v], shape,
                                 fill, attrs.get("color", "#5b6b7f")))
    edges: list[list[tuple[float, float]]] = []
    for chain, (a, b) in zip(chains, dag, strict=True):
        points = [(x[a], y[a] + heights[a] / 2)]
        points += [(x[v], y[v]) for v in chain[1:-1]]
        points.append((x[b], y[b] - heights[b] / 2))
        edges.append(points)
    return GraphLayout(nodes, edges, max(width, 2 * MARGIN), height)


# --------------------------------------------------------------------------- SVG

_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]+)$")


def _safe_color(value: str, default: str) -> str:
    return value if _COLOR.match(value) else default


def _builtin_svg(dot: str) -> str:
    layout = layout_dot(dot)
    w, h = math.ceil(layout.width), math.ceil(layout.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
        "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5b6b7f\"/></marker></defs>",
        f'<rect width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    for points in layout.edges:
        d = " ".join(f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}"
                     for k, (px, py) in enumerate(points))
        out.append(f'<path d="{d}" fill="none" stroke="#5b6b7f" stroke-width="1.2" '
                   'stroke-linejoin="round" marker-end="url(#arrow)"/>')
    for node in layout.nodes:
        fill = _safe_color(node.fill, "#ffffff")
        stroke = _safe_color(node.stroke, "#5b6b7f")
        x0, y0 = node.x - node.width / 2, node.y - node.height / 2
        if node.shape in {"ellipse", "oval", "circle"}:
            out.append(f'<ellipse cx="{node.x:.1f}" cy="{node.y:.1f}" rx="{node.width / 2:.1f}" '
                       f'ry="{node.height / 2:.1f}" fill="{fill}" stroke="{stroke}"/>')
        else:
            radius = 5 if node.shape == "rounded" else 0
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{node.width:.1f}" '
                       f'height="{node.height:.1f}" rx="{radius}" fill="{fill}" '
                       f'stroke="{stroke}"/>')
        first = node.y - (len(node.lines) - 1) * LINE_HEIGHT / 2
        for k, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if k == 0 and len(node.lines) > 1 else ""
            out.append(f'<text x="{node.x:.1f}" y="{first + k * LINE_HEIGHT:.1f}" '
                       f'text-anchor="middle" dominant-baseline="central" fill="#1d2733"'
                       f"{weight}>{escape(line)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def render_svg(dot: str, *, engine: str | None = "auto") -> str:
    """SVG text of a DOT graph: Graphviz ``dot`` when installed, the built-in drawing otherwise.

    ``engine="builtin"`` forces the built-in drawing; ``"dot"`` insists on Graphviz
    (raising if it is missing or fails). Either way the result is a complete SVG
    document with a width and height, ready to inline in HTML.
    """
    if engine not in {"auto", "dot", "builtin", None}:
        raise ValueError(f"render_svg: engine must be 'auto', 'dot' or 'builtin', got {engine!r}")
    if engine in {"auto", "dot"}:
        exe = shutil.which("dot")
        if exe is None and engine == "dot":
            raise FileNotFoundError("render_svg: Graphviz 'dot' is not installed "
                                    "(apt-get install graphviz), or use engine='builtin'")
        if exe is not None:
            try:
                result = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True,
                                        text=True, timeout=60, check=True)
                if "<svg" in result.stdout:
                    return result.stdout
            except (OSError, subprocess.SubprocessError):
                if engine == "dot":
                    raise
    return _builtin_svg(dot)
