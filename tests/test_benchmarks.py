"""The benchmark's statistics, its noise-aware comparison, and its GEMM shapes.

Speed itself is never asserted here (a timed test on a shared machine is a flaky test):
only that the numbers are computed as documented and that a regression is flagged.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import gemm_limit  # noqa: E402
import timing  # noqa: E402


def test_summarize_median_quartiles_and_robust_error() -> None:
    s = timing.summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s.median == 3.0
    assert (s.q1, s.q3) == (2.0, 4.0)
    # MAD = 1 (|1-3|,|2-3|,0,1,97 -> median 1): one wild round does not inflate the error
    assert s.sem == pytest.approx(1.2533 * 1.4826 / np.sqrt(5))
    with pytest.raises(ValueError, match="no values"):
        timing.summarize([])


def test_paired_ratios_cancel_a_drift_of_the_machine() -> None:
    ours = [{"cpu": 1.0}, {"cpu": 2.0}, {"cpu": 4.0}]   # the machine slows down 4x...
    theirs = [{"cpu": 1.5}, {"cpu": 3.0}, {"cpu": 6.0}]  # ...for both
    assert timing.paired_ratios(ours, theirs, "cpu") == [1.5, 1.5, 1.5]
    assert timing.per_round(ours, "cpu", scale=8) == [8.0, 4.0, 2.0]


def test_verdict_uses_the_spread_of_both_runs() -> None:
    tight = timing.Summary(1.0, 0.99, 1.01, 0.01, 9)
    assert timing.verdict(tight, timing.Summary(0.9, 0.89, 0.91, 0.01, 9)) == "slower"
    assert timing.verdict(tight, timing.Summary(1.1, 1.09, 1.11, 0.01, 9)) == "faster"
    assert timing.verdict(tight, timing.Summary(0.99, 0.98, 1.0, 0.01, 9)) == "same"
    noisy = timing.Summary(0.9, 0.7, 1.1, 0.1, 9)          # same drop, but within the noise
    assert timing.verdict(tight, noisy) == "same"
    # between separate runs, a 10% floor: a 9% drop with tight spreads is not flagged
    assert timing.verdict(tight, timing.Summary(0.91, 0.9, 0.92, 0.01, 9), floor=0.1) == "same"
    assert timing.verdict(tight, timing.Summary(0.85, 0.84, 0.86, 0.01, 9), floor=0.1) \
        == "slower"


def test_step_gemms_match_the_layers() -> None:
    import deepgrad
    from deepgrad import nn

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    x = deepgrad.randn(2, 3, 6, 6)

    def step() -> None:
        model(x).sum().backward()

    gemms = gemm_limit.step_gemms(model, step)
    rows, k = 2 * 4 * 4, 3 * 3 * 3
    assert gemms == [
        (rows, k, 8), (8, rows, k),                 # conv: no grad_input (x needs none)
        (2, 128, 5), (5, 2, 128), (2, 5, 128),      # linear: forward, weight, input
    ]
    seconds = gemm_limit.gemm_time(gemms, rounds=2)
    assert set(seconds) == {"wall", "cpu"} and seconds["wall"] > 0


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / "run.py"), *args],
                          capture_output=True, text=True, timeout=600)


def test_run_writes_stats_and_compare_flags_a_regression(tmp_path: Path) -> None:
    out = tmp_path / "after.json"
    done = _run("--only", "A", "--rounds", "3", "--threads", "1", "--cpu-time", "--no-memory",
                "--no-micro", "--no-inference", "--no-dezero", "--json", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    row = result["training"][0]
    assert result["clock"] == "cpu" and result["rounds"] == 3
    assert row["ratio_stats"]["n"] == 3 and len(row["rounds"]["deepgrad"]) == 3
    assert set(row["rounds"]["torch"][0]) == {"wall", "cpu"}
    assert 0 < row["gemm_fraction_deepgrad"] and row["gemm_ms"] > 0
    assert row["ratio_stats"]["q1"] <= row["ratio"] <= row["ratio_stats"]["q3"]

    same = _run("--compare", str(out), "--against", str(out))
    assert same.returncode == 0 and "0 regression(s)" in same.stdout

    better = copy.deepcopy(result)          # a "before" 30% faster, with a tight spread
    stats = better["training"][0]["ratio_stats"]
    stats["median"] *= 1.3
    stats["sem"] = stats["median"] * 0.001
    before = tmp_path / "before.json"
    before.write_text(json.dumps(better))
    worse = _run("--compare", str(before), "--against", str(out))
    assert worse.returncode == 1
    assert "REGRESSION" in worse.stdout and "1 regression(s)" in worse.stdout


def test_compare_names_a_file_that_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    done = _run("--compare", str(bad), "--against", str(bad))
    assert done.returncode != 0 and "bad.json" in done.stderr and "training" in done.stderr


def test_dezero_peer_is_optional() -> None:
    import dezero_peer

    if not dezero_peer.available():
        pytest.skip("DeZero not installed (the [bench] extra)")
    import run

    fw = dezero_peer.DeZero()
    case = next(c for c in run.CASES if c.key == "E")
    step, _ = run.make_step(fw, case)
    step()                                    # the tutorial CNN trains on DeZero
    elu = fw.nn.ELU()
    x = np.array([-2.0, -0.5, 0.0, 1.5], dtype=np.float32)
    np.testing.assert_allclose(elu(fw.tensor(x)).data, np.where(x > 0, x, np.expm1(x)),
                               rtol=1e-6)
    with pytest.raises(dezero_peer.Unsupported, match="BatchNorm2d"):
        fw.nn.BatchNorm2d(3)


def test_ab_interleaves_two_trees_in_one_session(tmp_path: Path) -> None:
    src = str(BENCH.parent / "src")
    out = tmp_path / "ab.json"
    done = subprocess.run([sys.executable, str(BENCH / "ab.py"), "--before", src, "--after", src,
                           "--only", "F", "--rounds", "3", "--threads", "1", "--cpu-time",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr     # 1 only if "slower" beyond the noise
    row = json.loads(out.read_text())["models"][0]
    assert row["id"] == "F" and len(row["rounds"]["before"]) == 3
    assert row["verdict"] in ("same", "faster", "slower") and row["noise"] >= 0
    # the same tree against itself: the speedup is about 1 (wide bound: a shared machine)
    assert 0.5 < row["speedup_stats"]["median"] < 2.0


def test_ab_names_a_folder_that_is_not_a_tree(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH / "ab.py"), "--before", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and str(tmp_path) in done.stderr and "src" in done.stderr


def test_ab_against_torch_runs_torch_in_its_own_worker(tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(BENCH / "ab.py"), "--before", "torch",
                           "--only", "F", "--rounds", "2", "--threads", "2", "--settle", "0.5",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "before torch" in done.stdout
    result = json.loads(out.read_text())
    row = result["models"][0]
    assert result["before"] == "torch" and result["threads"] == 2
    assert len(row["rounds"]["before"]) == 2 and row["before_samples_per_s"] > 0
    assert time.monotonic() - started > 4 * 0.5          # the settle pause before each round
