"""Every notebook in examples/notebooks runs in a real Jupyter kernel without an error, and
its exported HTML (nbconvert), opened in headless Chromium, shows deepgrad's rich views.

Outputs are not committed: the notebooks in git are stripped (tested below), so what a
reader sees is always made by the code beside it, and CI re-executes every notebook on
every run (about a minute for all six on 2 cores), which is the freshness check.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from kernel import NOTEBOOKS, execute, jupyter

from browser import headless_chromium, need

NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
REPORTS = ("000", "001", "002", "003", "004")
SECONDS_EACH = 120  # a notebook that needs more no longer fits CI's few minutes

# What each executed notebook must show: CSS selector -> at least this many.
EXPECTED: dict[str, dict[str, int]] = {
    "000-cifar-mlp-hyperparameters": {
        ".deepgrad-tensor img.deepgrad-image": 8, ".deepgrad-module": 1, ".deepgrad-live": 1,
        ".deepgrad-history svg.deepgrad-chart": 2, "svg.deepgrad-chart polyline": 3},
    "001-mnist-cnn": {
        ".deepgrad-summary": 2, ".deepgrad-live": 1, ".deepgrad-tensor img.deepgrad-image": 8,
        ".deepgrad-run": 1, "iframe.deepgrad-report-frame": 1},
    "002-autograd-and-lenet": {
        ".deepgrad-tensor": 1, ".deepgrad-summary": 1, ".deepgrad-live": 1,
        ".deepgrad-history": 1},
    "003-fashion-mlp-and-denoising": {
        ".deepgrad-tensor img.deepgrad-image": 18, ".deepgrad-live": 2, ".deepgrad-history": 2,
        ".deepgrad-module": 1},
    "004-moons-three-layer-net": {
        ".deepgrad-module": 1, ".deepgrad-live": 1, ".deepgrad-run": 1,
        "iframe.deepgrad-report-frame": 1, ".deepgrad-sweep": 1},
    "manual-autograd-mlp": {".deepgrad-tensor .deepgrad-hist": 1, ".deepgrad-module": 1},
}


def test_there_is_a_notebook_per_course_report_and_the_autograd_one() -> None:
    assert any(n == "manual-autograd-mlp" for n in NAMES)
    for report in REPORTS:
        assert [n for n in NAMES if n.startswith(report + "-")], f"no notebook for {report}"
    assert sorted(EXPECTED) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name: str) -> None:
    book = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    for i, cell in enumerate(book["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{name}.ipynb cell {i} has outputs: strip them (they are made in CI)"


@functools.cache
def _executed(name: str, root: str) -> tuple[Any, float]:
    nbformat, _ = jupyter()
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    seconds = execute(book, Path(root) / name)
    nbformat.write(book, Path(root) / f"{name}.ipynb")
    return book, seconds


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("notebooks"))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_a_kernel(name: str, workdir: str) -> None:
    book, seconds = _executed(name, workdir)
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o["output_type"] == "error"]
    assert not errors
    assert all(c.execution_count for c in book.cells if c.cell_type == "code")
    assert seconds < SECONDS_EACH, f"{name} took {seconds:.0f} s"


@pytest.fixture(scope="module")
def chromium() -> Any:
    with headless_chromium() as browser:
        yield browser


@pytest.mark.parametrize("name", NAMES)
def test_exported_notebook_shows_the_rich_views(name: str, workdir: str, chromium: Any) -> None:
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        need(False, "nbconvert is not installed (pip install 'deepgrad[notebook]')")
    from selenium.webdriver.common.by import By

    book, _ = _executed(name, workdir)
    body, _ = HTMLExporter().from_notebook_node(book)
    page = Path(workdir) / f"{name}.html"
    page.write_text(body, encoding="utf-8")
    chromium.get(page.as_uri())

    for selector, least in EXPECTED[name].items():
        found = chromium.find_elements(By.CSS_SELECTOR, selector)
        assert len(found) >= least, f"{name}: {len(found)} of {selector!r}, want {least}+"
    broken = chromium.execute_script(
        "return [...document.querySelectorAll('img.deepgrad-image')]"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0, f"{name}: {broken} tensor images did not decode"
    for live in chromium.find_elements(By.CSS_SELECTOR, ".deepgrad-live-status"):
        assert live.text.startswith("finished · epoch"), live.text  # the last redraw won

    frames = chromium.find_elements(By.CSS_SELECTOR, "iframe.deepgrad-report-frame")
    for frame in frames:
        # the page cannot reach into the report (an opaque origin) ...
        assert chromium.execute_script("return arguments[0].contentDocument === null", frame)
        # ... but the reader sees it: the report's heading and its figures
        chromium.switch_to.frame(frame)
        try:
            assert chromium.find_element(By.TAG_NAME, "h1").text.startswith("Run report")
            assert len(chromium.find_elements(By.CSS_SELECTOR, "img, svg")) >= 3
        finally:
            chromium.switch_to.default_content()
