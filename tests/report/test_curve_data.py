"""The curves' data: series per split, three x positions per point, loss first and lr last."""

from __future__ import annotations

import pytest
import synthetic_run

from deepgrad.lab.report.curve_data import curve_data


def test_series_carry_step_epoch_and_time() -> None:
    records = synthetic_run.metrics_records(epochs=3, steps_per_epoch=10)
    data = curve_data({"run": records})
    assert data["metrics"][0] == "loss" and data["metrics"][-1] == "lr"
    series = {s["name"]: s for s in data["runs"][0]["series"]}
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    per_step = series["loss (per step)"]
    assert per_step["y"] == pytest.approx([r["loss"] for r in steps])
    assert per_step["x"]["step"] == [r["step"] for r in steps]
    assert per_step["x"]["time"] == pytest.approx([r["time"] for r in steps])
    # a step record's epoch is interpolated between the epoch ends: step 15 of 10 per epoch
    ends = {r["step"]: r["epoch"] for r in epochs}
    for step, epoch in zip(per_step["x"]["step"], per_step["x"]["epoch"], strict=True):
        if step in ends:
            assert epoch == ends[step]
        assert 0 <= epoch <= len(epochs)
    assert per_step["x"]["epoch"] == sorted(per_step["x"]["epoch"])
    val = series["val loss"]
    assert val["split"] == "val" and val["x"]["epoch"] == [r["epoch"] for r in epochs]
    assert val["y"] == pytest.approx([r["val_loss"] for r in epochs])


def test_non_finite_values_become_gaps() -> None:
    records = [{"kind": "step", "step": 1, "loss": 1.0, "time": 0.1},
               {"kind": "step", "step": 2, "loss": None, "time": 0.2},
               {"kind": "step", "step": 3, "loss": float("nan"), "time": 0.3}]
    series = curve_data({"r": records})["runs"][0]["series"]
    assert series[0]["y"] == [1.0, None, None]
