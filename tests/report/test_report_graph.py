"""The graph explorer in headless Chromium: stepping backward with the keyboard and the
buttons walks the recorded backward order node by node to the input, the panel shows
each node's recorded statistics, modules collapse, and vanishing gradients stand out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import synthetic_run
from report_page import check_clean, open_page, screenshot
from test_report_interactive import by_css, click, into_view

from deepgrad import nn
from deepgrad.lab.graph_trace import trace_graph
from deepgrad.lab.report import write_report
from deepgrad.lab.runs import load_run
from deepgrad.nn import functional as F


def current(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#model .dg-current'))"
        ".map(e => e.dataset.node || ('module ' + e.dataset.module))")


def press(driver: Any, key: str, times: int = 1) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(times):
        ActionChains(driver).send_keys(key).perform()


def test_step_backward_reaches_the_input_in_as_many_steps_as_nodes(
        driver: Any, reports: dict[str, Path]) -> None:
    from selenium.webdriver.common.keys import Keys

    trace = load_run(reports["mnist_run"]).graph_trace
    assert trace is not None
    nodes = {n["id"]: n for n in trace["nodes"]}
    order = trace["order"]
    open_page(driver, reports["single"])
    assert driver.execute_script("return document.querySelectorAll('#model .dg-node').length") \
        == len(nodes)
    click(driver, "#model .dg-step-back")  # the button: the first node is the loss
    assert current(driver) == [str(order[0])] and nodes[order[0]]["kind"] == "loss"
    root = into_view(driver, by_css(driver, "#model .dg-graph"))
    driver.execute_script("arguments[0].focus()", root)
    press(driver, Keys.HOME)
    for k, node_id in enumerate(order, start=1):  # the arrow key, one node at a time
        press(driver, Keys.ARROW_RIGHT)
        assert current(driver) == [str(node_id)]
        assert by_css(driver, "#model .dg-step-count").text == f"step {k} of {len(order)}"
    last = nodes[order[-1]]
    assert last["kind"] == "input" and len(order) == len(nodes)
    panel = by_css(driver, "#model .dg-node-panel")
    assert panel.find_element("css selector", ".dg-node-title").text.startswith("input")
    grad_mean = panel.find_element("css selector", ".dg-grad td[data-stat='mean']").text
    assert float(grad_mean) == float(f"{last['grad']['mean']:.4g}")
    out_max = panel.find_element("css selector", ".dg-out td[data-stat='max']").text
    assert float(out_max) == float(f"{last['out']['max']:.4g}")
    bars = panel.find_elements("css selector", ".dg-grad svg rect")
    assert len(bars) == len(last["grad"]["counts"])
    press(driver, Keys.ARROW_RIGHT)  # past the end it stays at the input
    assert current(driver) == [str(order[-1])]
    press(driver, Keys.ARROW_LEFT, 2)
    assert current(driver) == [str(order[-3])]
    screenshot(driver, "report-graph")

    # collapse the module of the second conv: its nodes become one box, highlighted on a step
    members = [n["id"] for n in nodes.values() if n["module"] == "conv2"]
    assert len(members) == 3  # Conv2d, conv2.weight, conv2.bias
    click(driver, "#model .dg-module[data-module='conv2'] .dg-module-name")
    assert driver.execute_script("return document.querySelectorAll('#model .dg-node').length") \
        == len(nodes) - len(members)
    driver.execute_script("arguments[0].focus()", root)
    press(driver, Keys.HOME)
    press(driver, Keys.ARROW_RIGHT, order.index(members[0]) + 1)
    assert current(driver) == ["module conv2"]
    check_clean(driver, "graph explorer")


class Shrink(nn.Module):
    def forward(self, x: Any) -> Any:
        return x * 1e-4


def test_vanishing_gradients_stand_out(driver: Any, tmp_path: Path) -> None:
    import numpy as np

    folder = synthetic_run.write_run(tmp_path / "run")
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 4), Shrink(), Shrink(), nn.Linear(4, 3))
    rng = np.random.default_rng(0)
    trace = trace_graph(model, F.cross_entropy, rng.normal(size=(4, 1, 6, 6)).astype("f4"),
                        rng.integers(0, 3, 4))
    (folder / "graph_trace.json").write_text(json.dumps(trace))
    flagged = [n for n in trace["nodes"] if n["flag"] == "vanishing"]
    open_page(driver, write_report(folder))
    marked = driver.execute_script(
        "return Array.from(document.querySelectorAll('#model .dg-node.dg-vanishing'))"
        ".map(g => Number(g.dataset.node))")
    assert sorted(marked) == sorted(n["id"] for n in flagged) and marked
    stroke = driver.execute_script(
        "return getComputedStyle(document.querySelector('#model .dg-vanishing rect')).stroke")
    normal = driver.execute_script(
        "return getComputedStyle(document.querySelector('#model .dg-node:not(.dg-vanishing)"
        ":not(.dg-exploding) rect')).stroke")
    assert stroke != normal
    assert f"{len(flagged)} node(s) with vanishing or exploding gradients" in by_css(
        driver, "#model .dg-flag-count").text
    click(driver, f"#model .dg-node[data-node='{flagged[0]['id']}']")  # clicking a node goes there
    assert "vanishing gradient" in by_css(driver, "#model .dg-badge").text
    check_clean(driver, "vanishing graph")
