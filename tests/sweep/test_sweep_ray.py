"""The Ray backend against a real local Ray instance: same seeds, same metrics as the local one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import in_ci, moons

from deepgrad.lab.sweep import read_csv, run_sweep

try:
    import ray
except ImportError:  # pragma: no cover - depends on the install
    ray = None


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A Ray instance on 127.0.0.1 with 2 CPUs, started here and shut down after."""
    if ray is None:
        if in_ci():
            pytest.fail("ray is not installed; CI installs deepgrad[ray]")
        pytest.skip("ray is not installed (pip install 'deepgrad[ray]')")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_backend_matches_the_local_backend(
    local_ray: Any, write_sweep: Any, tmp_path: Path
) -> None:
    path = write_sweep({"name": "raysweep", "base": moons(epochs=3), "seeds": [0, 1],
                        "grid": {"model.hidden": [4]}})
    quiet = {"progress": False, "report": False, "log": lambda text: None, "threads": 1}
    local = run_sweep(path, out=tmp_path / "local", workers=2, **quiet)
    remote = run_sweep(path, out=tmp_path / "ray", backend="ray", workers=2, **quiet)
    assert local.ok and remote.ok
    assert local_ray.is_initialized()  # a Ray instance the sweep did not start stays up

    a, b = read_csv(tmp_path / "local" / "sweep.csv"), read_csv(tmp_path / "ray" / "sweep.csv")
    assert [r["trial"] for r in a] == [r["trial"] for r in b]
    metrics = ["train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"]
    for ra, rb in zip(a, b, strict=True):
        assert rb["status"] == "completed"
        for key in metrics:
            assert float(rb[key]) == pytest.approx(float(ra[key]), rel=1e-6, abs=1e-7), key
        ray_run = tmp_path / "ray" / rb["run_dir"]
        assert (ray_run / "summary.json").is_file()  # Ray tasks write ordinary run folders
    assert a[0]["val_loss"] != a[1]["val_loss"]  # the two seeds really differ
