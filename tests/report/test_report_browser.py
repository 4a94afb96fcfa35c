"""Reports of real short training runs, opened in headless Chromium through Selenium.

One MNIST CNN trained briefly on the embedded sample, and three optimizers on two
moons: each report must show every expected section, decode every image, log
no console error and make no request that leaves the file. Screenshots go to
``artifacts/`` (``report.png``, ``report-compare.png``, full pages beside them).

Skips where Chromium or chromedriver is missing (``.ci/browser-deps.sh`` installs
them), but fails under ``CI=true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_page import check_clean, open_page, screenshot, section_ids

# what the MNIST CNN report shows; the sections its data lacks stay, as a one-line note
MNIST_SECTIONS = ["overview", "curves", "model", "confusion", "gallery", "features",
                  "histograms", "boundary", "denoise"]
MNIST_LEFT_OUT = {"boundary", "denoise"}
RUN_SECTIONS = ["overview", "curves", "model", "confusion", "gallery", "features",
                "histograms", "boundary", "denoise"]
MOONS_OPTIMIZERS = [("sgd", 0.5), ("adam", 0.05), ("rmsprop", 0.02)]

def test_reports_open_cleanly_in_chromium(driver: Any, reports: dict[str, Path]) -> None:
    # one run: a short MNIST CNN run on the embedded sample
    open_page(driver, reports["single"])
    assert section_ids(driver) == MNIST_SECTIONS
    check_clean(driver, "mnist report")
    for sid in MNIST_SECTIONS:
        images = driver.execute_script(
            f"return document.querySelectorAll('#{sid} img').length")
        note = driver.execute_script(
            f"return document.querySelectorAll('#{sid} > p.left-out').length")
        if sid in MNIST_LEFT_OUT:
            assert images == 0 and note == 1, sid
        elif sid != "overview":
            assert images >= 1 and note == 0, sid
    assert driver.execute_script("return document.querySelectorAll('#overview table').length") == 2
    config = driver.execute_script("return document.querySelector('#overview dl.kv').innerText")
    assert "optimizer.name" in config and "adam" in config
    graph = driver.execute_script(
        "return document.querySelector('#model img[src^=\"data:image/svg\"]').naturalWidth")
    assert graph > 100
    screenshot(driver, "report")

    # three optimizers on two moons: the comparison
    open_page(driver, reports["compare"])
    assert section_ids(driver) == ["comparison", "comparison-curves", "comparison-boundaries",
                                   "run1", "run2", "run3"]
    for k in (1, 2, 3):
        assert section_ids(driver, f"#run{k} > section") == [f"run{k}-{s}" for s in RUN_SECTIONS]
        boundary = driver.execute_script(
            f"return document.querySelectorAll('#run{k}-boundary img').length")
        assert boundary == 2
    check_clean(driver, "moons comparison")
    header = driver.execute_script(
        "return Array.from(document.querySelectorAll('#comparison table')[0]"
        ".querySelectorAll('th')).map(th => th.textContent)")
    assert header[1:] == [f"moons-net ({name})" for name, _ in MOONS_OPTIMIZERS]
    differing = driver.execute_script(
        "return Array.from(document.querySelectorAll('#comparison td.diff:first-child'))"
        ".map(td => td.textContent)")
    assert "optimizer.name" in differing and "optimizer.lr" in differing
    assert driver.execute_script("return document.querySelectorAll('#comparison td.best').length")
    screenshot(driver, "report-compare")
