"""Every zoo model, a recurrent model and a two-output report model, exported and opened in
Netron (its own server, headless Chromium): the graph must render with one box per ONNX
node, input and output, showing each node's op and the layer it came from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import deepgrad as dg
from browser import headless_chromium, need
from deepgrad import nn
from deepgrad.lab import zoo
from helpers import onnx_or_skip
from report_models import CASES, build


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(32, 5)

    def forward(self, ids: dg.Tensor) -> dg.Tensor:
        return self.head(self.lstm(self.embed(ids))[0])


def models() -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = [
        (name, zoo.get_model(name), dg.randn(1, *zoo.get_spec(name).input_shape))
        for name in zoo.list_models()]
    out.append(("tagger", Tagger(), dg.tensor([[1, 2, 3, 4]])))
    source, name, args, shape, _ = CASES["report002_lenet5"]
    out.append(("report002_lenet5", build(source, name, args, dg), dg.randn(1, *shape)))
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    onnx_or_skip()
    with headless_chromium() as driver:
        yield driver


def rendered_boxes(driver: Any, timeout: float = 30.0) -> list[str]:
    """The text of each box Netron drew, once it has drawn (accepting its first-run notice)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        boxes = driver.execute_script(
            "return Array.from(document.querySelectorAll('g.node')).map(e => e.textContent)")
        if boxes:
            return list(boxes)
        driver.execute_script("""
            const b = Array.from(document.querySelectorAll('button'))
                .find(b => b.textContent.trim() === 'Accept' && b.offsetParent !== null);
            if (b) b.click();""")
        time.sleep(0.25)
    raise AssertionError(f"Netron drew no graph in {timeout} s; page: "
                         f"{driver.execute_script('return document.body.innerText')[:300]!r}")


@pytest.mark.parametrize("label,model,example", models(), ids=[m[0] for m in models()])
def test_model_opens_in_netron(label: str, model: Any, example: Any, browser: Any,
                               tmp_path: Path) -> None:
    try:
        import netron
    except ImportError:
        need(False, "netron is not installed (pip install -e '.[dev]')")
    path = tmp_path / f"{label}.onnx"
    proto = dg.onnx.export(model, example, path, dynamic_axes={"input": {0: "batch"}})
    address = netron.serve(str(path), None, ("127.0.0.1", 0), False)
    try:
        browser.get(f"http://{address[0]}:{address[1]}")
        boxes = rendered_boxes(browser)
    finally:
        netron.stop(address)
    graph = proto.graph
    assert len(boxes) == len(graph.node) + len(graph.input) + len(graph.output)
    for node, box in zip(graph.node, boxes[len(graph.input):], strict=False):
        assert box.startswith(node.op_type + node.name), (box, node.op_type, node.name)
    assert boxes[0].startswith("input") and "batch" in boxes[0]
