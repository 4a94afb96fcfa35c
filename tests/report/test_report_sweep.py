"""The sweep explorer: a real Optuna search of two-moons trials, its report.html used in
headless Chromium — brushing axes filters the table to the expected trials and
highlights their curves, headers sort, pruned trials show where they stopped — and the
setting-importance measure checked on numbers worked by hand."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from report_page import check_clean, open_page, screenshot
from test_report_interactive import by_css, click, into_view

from deepgrad.lab.report.sweep_data import eta_squared, importance, spearman, sweep_data
from deepgrad.lab.sweep import read_csv


def test_eta_squared_and_spearman_on_hand_worked_numbers() -> None:
    # groups a, a, b, b with y 1, 3, 5, 7: mean 4, total SS 20, between 2*(2-4)^2 + 2*(6-4)^2
    assert eta_squared(["a", "a", "b", "b"], [1, 3, 5, 7]) == pytest.approx(16 / 20)
    assert eta_squared([1, 2, 1, 2], [5, 5, 5, 5]) is None  # a constant metric explains nothing
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 2], [1, 2, 3, 4]) == pytest.approx(math.sqrt(0.8))  # ties
    trials = [{"status": s, "values": {"lr": lr, "opt": o, "acc": a}}
              for s, lr, o, a in [("completed", 0.1, "sgd", 0.9), ("completed", 0.01, "sgd", 0.8),
                                  ("completed", 0.001, "adam", 0.5),
                                  ("pruned", 0.0001, "adam", 0.1)]]
    found = {r["key"]: r for r in importance(trials, ["lr", "opt"], "acc")}
    assert found["lr"]["n"] == 3 and found["lr"]["rho"] == pytest.approx(1.0)  # pruned left out
    assert found["lr"]["eta2"] == pytest.approx(1.0)  # 3 values, 3 groups: all explained
    assert found["opt"]["rho"] is None
    assert found["opt"]["eta2"] == pytest.approx(eta_squared(["s", "s", "a"], [0.9, 0.8, 0.5]))


def rows_shown(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.dg-results tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.dataset.trial)")


def brush(driver: Any, key: str, top: float, bottom: float) -> None:
    """Drag along axis ``key`` from fraction ``top`` to ``bottom`` of its height (1 = top)."""
    from selenium.webdriver.common.action_chains import ActionChains

    axis = into_view(driver, by_css(driver, f".dg-axis[data-key='{key}'] .dg-axis-line"))
    height = axis.rect["height"]
    ActionChains(driver).move_to_element_with_offset(axis, 0, (0.5 - top) * height) \
        .click_and_hold().move_by_offset(0, (top - bottom) * height / 2) \
        .move_by_offset(0, (top - bottom) * height / 2).release().perform()


def between(values: list[float], log: bool = False) -> tuple[float, float]:
    """A threshold in the widest gap of ``values`` (so pixel rounding cannot matter), as the
    fraction of the axis, and the value itself."""
    t = (lambda v: math.log10(v)) if log else (lambda v: v)
    ordered = sorted(set(values))
    lo, hi = t(ordered[0]), t(ordered[-1])
    a, b = max(zip(ordered[:-1], ordered[1:], strict=True), key=lambda p: t(p[1]) - t(p[0]))
    middle = (t(a) + t(b)) / 2
    return (middle - lo) / (hi - lo), (10 ** middle if log else middle)


def test_brushing_axes_filters_the_table_and_highlights_curves(driver: Any,
                                                               sweep_dir: Path) -> None:
    rows = read_csv(sweep_dir / "sweep.csv")
    acc = {r["trial"]: float(r["val_accuracy"]) for r in rows}
    lr = {r["trial"]: float(r["optimizer.lr"]) for r in rows}
    open_page(driver, sweep_dir / "report.html")
    assert sorted(rows_shown(driver)) == sorted(acc)

    f_acc, cut_acc = between(list(acc.values()))
    brush(driver, "val_accuracy", 1.02, f_acc)  # the better trials, from beyond the top
    better = {t for t, v in acc.items() if v >= cut_acc}
    assert set(rows_shown(driver)) == better
    f_lr, cut_lr = between([lr[t] for t in better] or list(lr.values()), log=True)
    lr_axis = by_css(driver, ".dg-axis[data-key='optimizer.lr']")
    lo, hi = float(lr_axis.get_attribute("data-lo")), float(lr_axis.get_attribute("data-hi"))
    assert lr_axis.get_attribute("data-log") == "1"
    f_lr = (math.log10(cut_lr) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    brush(driver, "optimizer.lr", f_lr, -0.02)  # and, of those, the small learning rates
    expected = {t for t in better if lr[t] <= cut_lr}
    assert set(rows_shown(driver)) == expected
    assert f"{len(expected)} of {len(rows)} trials inside the brushes" in by_css(
        driver, ".dg-selection").text
    highlighted = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('.dg-trial-curve.dg-on'))"
        ".map(g => g.dataset.trial)"))
    assert highlighted == expected
    faded = driver.execute_script(
        "return document.querySelectorAll('.dg-pc-line.dg-off').length")
    assert faded == len(rows) - len(expected)
    screenshot(driver, "report-sweep")
    click(driver, ".dg-axis[data-key='optimizer.lr'] .dg-pc-hit")  # a click clears that brush
    assert set(rows_shown(driver)) == better
    click(driver, ".dg-axis[data-key='val_accuracy'] .dg-pc-hit")
    assert len(rows_shown(driver)) == len(rows)
    check_clean(driver, "sweep report")


def test_results_sort_and_pruned_trials_show_where_they_stopped(driver: Any,
                                                                sweep_dir: Path) -> None:
    rows = {r["trial"]: r for r in read_csv(sweep_dir / "sweep.csv")}
    open_page(driver, sweep_dir / "report.html")
    click(driver, "table.dg-results th[data-col='val_accuracy']")
    order = rows_shown(driver)
    assert [float(rows[t]["val_accuracy"]) for t in order] == sorted(
        float(r["val_accuracy"]) for r in rows.values())
    click(driver, "table.dg-results th[data-col='val_accuracy']")
    assert [float(rows[t]["val_accuracy"]) for t in rows_shown(driver)] == sorted(
        (float(r["val_accuracy"]) for r in rows.values()), reverse=True)
    assert by_css(driver, "table.dg-results th[data-col='val_accuracy']").get_attribute(
        "aria-sort") == "descending"

    data = sweep_data(sweep_dir)
    pruned = [t for t in data["trials"] if t["status"] == "pruned"]
    assert pruned, "the median pruner stopped no trial: the sweep no longer tests pruning"
    for trial in data["trials"]:  # a curve per trial, as long as the epochs it ran
        assert len(trial["curve"]["epoch"]) == int(rows[trial["id"]]["epochs"])
    marks = driver.execute_script(
        "return Array.from(document.querySelectorAll('.dg-trial-curve.dg-pruned'))"
        ".filter(g => g.querySelector('.dg-pruned-mark')).map(g => g.dataset.trial)")
    assert sorted(marks) == sorted(t["id"] for t in pruned)
    # the importance view states its method and ranks every setting
    method = by_css(driver, ".dg-importance .dg-method").text
    assert "\u03b7\u00b2 = between-group / total sum of squares" in method
    shown = {tr.get_attribute("data-key") for tr in driver.find_elements(
        "css selector", ".dg-importance tr")}
    assert shown == {"optimizer.lr", "model.hidden", "optimizer.name"}
    check_clean(driver, "sorted sweep report")


def test_report_command_on_a_sweep_folder(sweep_dir: Path, tmp_path: Path) -> None:
    from deepgrad.lab.report import main

    out = tmp_path / "sweep.html"
    assert main([str(sweep_dir), "-o", str(out)]) == 0
    text = out.read_text()
    assert '<section id="sweep">' in text and "Sweep report: out" in text
    data = sweep_data(sweep_dir)
    assert data["metric"] == "val_accuracy" and data["goal"] == "max"
    assert data["settings"] == ["optimizer.lr", "model.hidden", "optimizer.name"]
    assert data["kinds"]["optimizer.lr"] == {"kind": "num", "log": True}
    assert data["kinds"]["optimizer.name"]["kind"] == "cat"
    finished = [r for r in read_csv(sweep_dir / "sweep.csv")
                if r["status"] in ("completed", "pruned")]
    # then each finished trial's own sections
    assert len(re.findall(r'<section id="run\d+" class="run">', text)) == len(finished)
