"""deepgrad.viz writes autograd and module graphs as DOT; the lab's graph_layout parses, lays
out and draws them as SVG."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import deepgrad
from deepgrad import nn, viz
from deepgrad.lab.plots import graph_layout

SVG = "{http://www.w3.org/2000/svg}"


def small_net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def labels_of(dot: str) -> list[str]:
    graph = graph_layout.parse_dot(dot)
    return [graph_layout._label_lines(n, a)[0] for n, a in graph.nodes.items()]


def test_to_dot_has_a_node_per_function_and_named_parameters() -> None:
    model = small_net()
    x = deepgrad.randn(5, 4)
    loss = model(x).sum()
    dot = viz.to_dot(loss, params=dict(model.named_parameters()))
    graph = graph_layout.parse_dot(dot)
    labels = labels_of(dot)
    for name in ("0.weight", "0.bias", "2.weight", "2.bias", "output", "input"):
        assert name in labels
    ops = [label for label in labels if label.endswith("Backward")]
    assert sorted(ops) == sorted(["LinearBackward", "ReLUBackward", "LinearBackward",
                                  "SumBackward"])
    # shapes: the parameter's and each op's output
    text = {n: graph_layout._label_lines(n, a) for n, a in graph.nodes.items()}
    assert ["0.weight", "(8, 4)"] in text.values()
    assert ["ReLUBackward", "(5, 8)"] in text.values()
    assert ["output", "scalar"] in text.values()
    # edges follow the data: leaves -> ops -> output; 4 params + input + 3 op links + out
    assert len(graph.edges) == 4 + 1 + 3 + 1
    names = {n: graph_layout._label_lines(n, a)[0] for n, a in graph.nodes.items()}
    assert all(names[b] != "input" for _, b, _ in graph.edges)
    assert any(names[a] == "SumBackward" and names[b] == "output" for a, b, _ in graph.edges)


def test_to_dot_without_names_and_for_several_outputs() -> None:
    w = deepgrad.randn(3, requires_grad=True)
    a, b = (w * 2).sum(), (w.exp()).mean()
    dot = viz.to_dot([a, b], show_shapes=False)
    labels = labels_of(dot)
    assert labels.count("parameter") == 1  # the shared leaf appears once
    assert {"output 0", "output 1"} <= set(labels)


def test_deep_graphs_do_not_recurse() -> None:
    x = deepgrad.randn(2, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    dot = viz.to_dot(y.sum())
    assert dot.count("MulBackward") == 3000
    layout = graph_layout.layout_dot(dot)
    assert len(layout.nodes) == 3000 + 3


def test_module_to_dot_is_the_module_tree() -> None:
    model = small_net()
    dot = viz.module_to_dot(model)
    graph = graph_layout.parse_dot(dot)
    text = [graph_layout._label_lines(n, a) for n, a in graph.nodes.items()]
    assert text[0][0] == "Sequential" and text[0][-1] == "67 params"
    first = [t for t in text if t[0] == "0: Linear"][0]
    assert "weight (8, 4)  bias (8,)" in first and "40 params" in first
    assert len(graph.edges) == 3  # root -> each child


def test_parse_dot_subset() -> None:
    dot = """
    // a comment
    digraph "g" {
      graph [rankdir=TB]; node [shape=box, fontsize=10];
      a [label="first\\nline two", fillcolor="#ff0000", style=filled];
      "b c" -> d -> e [color=red];
      subgraph cluster_x { f; }
      a:port -> "b c";
      /* block */ rankdir = LR
    }"""
    g = graph_layout.parse_dot(dot)
    assert list(g.nodes) == ["a", "b c", "d", "e", "f"]
    assert g.nodes["a"]["fontsize"] == "10" and g.nodes["a"]["fillcolor"] == "#ff0000"
    assert graph_layout._label_lines("a", g.nodes["a"]) == ["first", "line two"]
    assert [(a, b) for a, b, _ in g.edges] == [("b c", "d"), ("d", "e"), ("a", "b c")]
    assert g.edges[0][2]["color"] == "red"
    assert g.graph_attrs["rankdir"] == "LR"


def test_layout_ranks_point_down_and_boxes_do_not_overlap() -> None:
    model = small_net()
    dot = viz.to_dot(model(deepgrad.randn(2, 4)).sum(), params=dict(model.named_parameters()))
    layout = graph_layout.layout_dot(dot)
    for points in layout.edges:
        ys = [p[1] for p in points]
        assert ys == sorted(ys) and ys[0] < ys[-1]  # every edge runs downwards
    boxes = layout.nodes
    for i, a in enumerate(boxes):
        assert a.x - a.width / 2 >= 0 and a.x + a.width / 2 <= layout.width
        for b in boxes[i + 1:]:
            apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
            apart_y = abs(a.y - b.y) >= (a.height + b.height) / 2
            assert apart_x or apart_y, (a.lines, b.lines)
    cyclic = graph_layout.layout_dot("digraph { a -> b -> c -> a; }")  # drawn, not an error
    assert len(cyclic.nodes) == 3 and len(cyclic.edges) == 3


def test_builtin_svg_is_valid_and_complete() -> None:
    model = small_net()
    dot = viz.to_dot(model(deepgrad.randn(2, 4)).sum(), params=dict(model.named_parameters()))
    svg = graph_layout.render_svg(dot, engine="builtin")
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    assert float(root.get("width")) > 50 and float(root.get("height")) > 50
    shapes = root.findall(f"{SVG}rect")[1:] + root.findall(f"{SVG}ellipse")
    assert len(shapes) == len(graph_layout.parse_dot(dot).nodes)
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "2.weight" in texts and "(3, 8)" in texts
    assert len(root.findall(f"{SVG}path")) == len(graph_layout.parse_dot(dot).edges)
    # labels are escaped, colours that are not colours are dropped
    odd = graph_layout.render_svg(
        'digraph { a [label="<b> & c", style=filled, fillcolor="url(x)"]; }', engine="builtin")
    assert "&lt;b&gt; &amp; c" in odd and "url(x)" not in odd
    with pytest.raises(ValueError, match="engine"):
        graph_layout.render_svg(dot, engine="neato")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_when_installed() -> None:
    svg = graph_layout.render_svg(viz.module_to_dot(small_net()), engine="dot")
    assert "<svg" in svg and re.search(r"Sequential", svg)


def test_no_graphviz_still_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_layout.shutil, "which", lambda name: None)
    svg = graph_layout.render_svg("digraph { a -> b; }")
    assert "<svg" in svg and ">a</text>" in svg
    with pytest.raises(FileNotFoundError, match="Graphviz"):
        graph_layout.render_svg("digraph { a -> b; }", engine="dot")
    assert np.isfinite(graph_layout.layout_dot("digraph { a -> b; }").width)
