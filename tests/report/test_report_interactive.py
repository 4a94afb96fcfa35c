"""The report's interactive curves, used in headless Chromium as a reader would use them.

Each test acts on the page (moves the mouse, drags, presses keys, clicks, types)
and checks what changed against the run's own metrics.jsonl: the hover readout
names the logged value, the smoothing slider redraws the line (at 0 it is the
raw line), the log toggle, drag-to-zoom and reset, x as step/epoch/time, the
per-run toggles and name filter, and the CSV download of what is shown.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest
from report_page import MOONS_OPTIMIZERS, check_clean, open_page, screenshot

from deepgrad.lab.runs import load_run


def by_css(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def into_view(driver: Any, element: Any) -> Any:
    """Scroll ``element`` to the middle of the window at once (the page scrolls smoothly,
    which would leave a click landing mid-scroll)."""
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    return element


def click(driver: Any, css: str) -> None:
    into_view(driver, by_css(driver, css)).click()


def chart(driver: Any, metric: str, root: str = "#curves") -> Any:
    return by_css(driver, f"{root} .dg-chart[data-metric='{metric}'] svg")


def x_range(svg: Any) -> tuple[float, float]:
    return float(svg.get_attribute("data-xmin")), float(svg.get_attribute("data-xmax"))


def hover_at(driver: Any, svg: Any, x: float) -> None:
    """Move the mouse over the plot area of ``svg`` to data coordinate ``x``."""
    from selenium.webdriver.common.action_chains import ActionChains

    hit = into_view(driver, svg.find_element("css selector", ".dg-hit"))
    lo, hi = x_range(svg)
    width = hit.rect["width"]
    offset = (x - lo) / (hi - lo) * width - width / 2
    offset = max(-width / 2 + 2, min(width / 2 - 2, offset))  # the edges belong to the frame
    ActionChains(driver).move_to_element_with_offset(hit, offset, 0).perform()


def drag(driver: Any, svg: Any, start: float, end: float) -> None:
    """Press at fraction ``start`` of the plot's width, release at ``end``."""
    from selenium.webdriver.common.action_chains import ActionChains

    hit = into_view(driver, svg.find_element("css selector", ".dg-hit"))
    width = hit.rect["width"]
    ActionChains(driver).move_to_element_with_offset(hit, (start - 0.5) * width, 0) \
        .click_and_hold().move_by_offset((end - start) * width / 2, 0) \
        .move_by_offset((end - start) * width / 2, 0).release().perform()


def step_path(driver: Any) -> str:
    """The drawn (smoothed) per-step training loss of the single-run report."""
    return by_css(driver, "#curves .dg-chart[data-metric='loss'] path.dg-line.dg-step"
                  ).get_attribute("d")


def test_hover_shows_the_logged_value(driver: Any, reports: dict[str, Path]) -> None:
    open_page(driver, reports["single"])
    steps = load_run(reports["mnist_run"]).steps
    record = steps[len(steps) // 2]
    svg = chart(driver, "loss")
    hover_at(driver, svg, record["step"])
    readout = by_css(driver, "#curves .dg-readout").text
    assert f"loss (per step) @ step {record['step']}: {record['loss']:.4g}" in readout
    assert len(svg.find_elements("css selector", ".dg-dot")) >= 1
    # an epoch record: the validation loss at the epoch's last step
    epoch = load_run(reports["mnist_run"]).epochs[0]
    hover_at(driver, svg, epoch["step"])
    assert f"val loss @ step {epoch['step']}: {epoch['val_loss']:.4g}" \
        in by_css(driver, "#curves .dg-readout").text
    screenshot(driver, "report-curves")  # the full page shows the readout and the dots
    check_clean(driver, "hovered report")


def test_smoothing_slider_redraws_the_line(driver: Any, reports: dict[str, Path]) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(driver, reports["single"])
    smoothed = step_path(driver)
    raw = by_css(driver, "#curves .dg-chart[data-metric='loss'] path.dg-raw").get_attribute("d")
    assert smoothed != raw  # the default 0.6 smooths, the raw line faint beneath
    slider = into_view(driver, by_css(driver, "#curves .dg-smooth"))
    slider.send_keys(Keys.HOME)  # smoothing 0: the line is the raw line, no faint copy
    assert by_css(driver, "#curves .dg-smooth-value").text == "0.00"
    assert step_path(driver) == raw
    assert driver.execute_script(
        "return document.querySelectorAll('#curves path.dg-raw').length") == 0
    slider.send_keys(Keys.END)
    heavy = step_path(driver)
    assert by_css(driver, "#curves .dg-smooth-value").text == "0.99"
    assert heavy not in (raw, smoothed)
    # heavier smoothing, a flatter line: the y extent of the path shrinks
    def y_span(d: str) -> float:
        ys = [float(p.split(" ")[1]) for p in d.replace("M", "L").split("L")[1:]]
        return max(ys) - min(ys)
    assert y_span(heavy) < y_span(raw)


def test_log_axis_zoom_reset_and_x_modes(driver: Any, reports: dict[str, Path]) -> None:
    from selenium.webdriver.support.ui import Select

    run = load_run(reports["mnist_run"])
    open_page(driver, reports["single"])
    svg = chart(driver, "loss")
    full = x_range(svg)
    assert full == (min(r["step"] for r in run.metrics if "step" in r),
                    max(r["step"] for r in run.metrics if "step" in r))
    linear = step_path(driver)
    click(driver, "#curves .dg-log")
    assert step_path(driver) != linear
    ticks = [t.text for t in chart(driver, "loss").find_elements("css selector", ".dg-axes text")]
    click(driver, "#curves .dg-log")
    assert step_path(driver) == linear
    assert ticks != [t.text for t in chart(driver, "loss").find_elements(
        "css selector", ".dg-axes text")]

    drag(driver, chart(driver, "loss"), 0.25, 0.75)
    lo, hi = x_range(chart(driver, "loss"))
    span = full[1] - full[0]
    assert lo == pytest.approx(full[0] + 0.25 * span, abs=0.03 * span)
    assert hi == pytest.approx(full[0] + 0.75 * span, abs=0.03 * span)
    click(driver, "#curves .dg-reset")
    assert x_range(chart(driver, "loss")) == full

    xs = Select(into_view(driver, by_css(driver, "#curves .dg-x")))
    xs.select_by_value("epoch")
    assert x_range(chart(driver, "loss"))[1] == len(run.epochs)
    assert by_css(driver, "#curves .dg-chart[data-metric='loss'] .dg-xlabel").text == "epoch"
    xs.select_by_value("time")
    assert x_range(chart(driver, "loss"))[1] == pytest.approx(
        max(r["time"] for r in run.metrics if "time" in r))
    check_clean(driver, "zoomed report")


def test_run_toggles_filter_and_csv(driver: Any, reports: dict[str, Path],
                                    tmp_path: Path) -> None:
    open_page(driver, reports["compare"])
    root = "#comparison-curves"

    def runs_drawn() -> set[str]:
        return set(driver.execute_script(
            f"return Array.from(document.querySelectorAll('{root} path.dg-line[data-run]'))"
            ".map(p => p.dataset.run)"))

    assert runs_drawn() == {"0", "1", "2"}
    click(driver, f"{root} .dg-run[data-run='0'] input")
    assert runs_drawn() == {"1", "2"}
    click(driver, f"{root} .dg-run[data-run='0'] input")
    into_view(driver, by_css(driver, f"{root} .dg-filter")).send_keys("adam")
    adam = [k for k, (name, _) in enumerate(MOONS_OPTIMIZERS) if name == "adam"]
    assert runs_drawn() == {str(k) for k in adam}

    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(tmp_path)})
    click(driver, f"{root} .dg-csv")
    target = tmp_path / "curves.csv"
    for _ in range(100):
        if target.exists() and target.stat().st_size:
            break
        time.sleep(0.05)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert {r["run"] for r in rows} == {"moons-net (adam)"}
    adam_run = load_run(sorted(Path(reports["compare"]).parent.glob("runs/moons-net-*"))[adam[0]])
    logged = [r for r in adam_run.metrics if r.get("kind") == "step"]
    per_step = [r for r in rows if r["series"] == "loss (per step)"]
    assert [int(r["step"]) for r in per_step] == [r["step"] for r in logged]
    assert [float(r["value"]) for r in per_step] == pytest.approx([r["loss"] for r in logged])
    val = [r for r in rows if r["series"] == "val accuracy"]
    assert [float(r["value"]) for r in val] == pytest.approx(
        [r["val_accuracy"] for r in adam_run.epochs])
    check_clean(driver, "filtered comparison")


def test_clicking_a_confusion_cell_shows_its_mistakes(driver: Any,
                                                      reports: dict[str, Path]) -> None:
    import base64

    import numpy as np
    from PIL import Image
    from selenium.webdriver.common.keys import Keys

    pred = load_run(reports["mnist_run"]).predictions
    assert pred is not None
    targets, preds = pred["targets"], pred["preds"]
    pairs = [(int(t), int(p)) for t, p in zip(targets, preds, strict=True) if t != p]
    t, p = max(set(pairs), key=pairs.count)  # the most frequent mistake
    expected = {int(i) for i in np.flatnonzero((targets == t) & (preds == p))}
    open_page(driver, reports["single"])
    click(driver, f"#confusion .dg-cell[data-true='{t}'][data-pred='{p}']")
    title = by_css(driver, "#confusion .dg-cell-title").text
    assert f"True {pred['class_names'][t]}, predicted {pred['class_names'][p]}: " \
           f"{len(expected)} example" in title
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('#confusion .dg-example'))"
        ".map(f => [Number(f.dataset.index), f.querySelector('img') ? "
        "f.querySelector('img').src : null])")
    assert {i for i, _ in shown} == expected
    confidence = pred["probs"][[i for i, _ in shown], p]
    assert list(confidence) == sorted(confidence, reverse=True)  # most confident first
    stored = {int(i): k for k, i in enumerate(pred["gallery_index"])}
    with_image = [(i, src) for i, src in shown if src]
    assert with_image and all(i in stored for i, _ in with_image)
    for i, src in with_image:  # each thumbnail is that sample's stored pixels
        png = base64.b64decode(src.split(",", 1)[1])
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))),
                                      pred["gallery_images"][stored[i]])
    screenshot(driver, "report-confusion")
    # the keyboard: Enter on a diagonal cell says it holds no mistakes
    cell = by_css(driver, "#confusion .dg-cell[data-true='0'][data-pred='0']")
    into_view(driver, cell).send_keys(Keys.ENTER)
    assert "predicted correctly" in by_css(driver, "#confusion .dg-cell-title").text
    assert driver.execute_script(
        "return document.querySelectorAll('#confusion .dg-example').length") == 0
    check_clean(driver, "confusion drill-down")
