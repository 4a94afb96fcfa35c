"""A rank that dies, hangs or raises ends the whole job with a message, within a timeout (no
hang), and the run resumes from rank 0's last checkpoint, bit for bit
(scripts/train_resume.py: 24 DDP steps with dropout, crossing an epoch)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from mpi_helpers import run_mpi

STEPS, FAIL_AT = "24", "19"


def _final(folder: Path) -> dict[str, np.ndarray]:
    return dict(np.load(folder / "final.npz"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    run_mpi(2, "train_resume.py", "--out", str(folder), "--steps", STEPS)
    return _final(folder)


@pytest.mark.parametrize("how, message, timeout", [
    ("kill", "exited on signal 9 (Killed)", 60),  # mpirun itself sees the dead rank
    ("stop", "waited", 60),  # a hung rank: rank 0's watchdog (a 3 s timeout here)
    ("raise", "rank 1 of 2 raised RuntimeError; aborting the whole job", 60),
])
def test_a_failed_rank_stops_the_job_and_the_run_resumes(
        tmp_path: Path, uninterrupted: dict[str, np.ndarray], how: str, message: str,
        timeout: float) -> None:
    started = time.monotonic()
    failed = run_mpi(2, "train_resume.py", "--out", str(tmp_path), "--steps", STEPS,
                     "--fail-at", FAIL_AT, "--how", how, "--timeout", "3", timeout=timeout,
                     check=False)
    took = time.monotonic() - started
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert message in output, output
    if how == "stop":
        assert "longer than the timeout of 3 s" in output and "resume from the last" in output
    assert took < timeout
    assert not (tmp_path / "final.npz").exists()
    resumed = run_mpi(2, "train_resume.py", "--out", str(tmp_path), "--steps", STEPS,
                      "--resume", "--timeout", "30")
    # rank 0 writes the checkpoint of step FAIL_AT unless the abort came first: then FAIL_AT-1
    found = re.search(r"rank 0: resumed at step (\d+)", resumed.stdout)
    assert found and int(FAIL_AT) - 1 <= int(found.group(1)) <= int(FAIL_AT), resumed.stdout
    final = _final(tmp_path)
    assert final.keys() == uninterrupted.keys()
    for key, value in uninterrupted.items():
        np.testing.assert_array_equal(final[key], value, err_msg=key)
