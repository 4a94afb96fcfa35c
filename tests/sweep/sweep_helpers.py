"""Shared pieces of the sweep tests: a tiny moons base config and the CI switch."""

from __future__ import annotations

import copy
import os
from typing import Any

# Two-moons runs that take about a second: no TensorBoard, no histograms, no numbered checkpoints.
MOONS: dict[str, Any] = {
    "model": {"name": "moons-net", "hidden": 3},
    "data": {"name": "moons", "val_split": 0.2, "options": {"n_samples": 400, "noise": 0.2}},
    "optimizer": {"name": "adam", "lr": 0.05},
    "loss": "cross_entropy",
    "epochs": 4,
    "batch_size": 32,
    "logging": {"tensorboard": False, "histograms_every": 0, "checkpoint_every": 0},
}


def moons(**changes: Any) -> dict[str, Any]:
    """A copy of the moons base config with top-level ``changes``."""
    out = copy.deepcopy(MOONS)
    out.update(changes)
    return out


def in_ci() -> bool:
    """Under CI=true, missing optional pieces (Ray, data) fail the tests instead of skipping."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
