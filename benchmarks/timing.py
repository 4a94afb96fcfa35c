"""Interleaved timing rounds, their medians and spreads, and the noise-aware comparison.

A benchmark on a shared machine is noisy in two ways: slow drifts (another job starts,
the CPU clocks down) and single bad rounds (a context switch in the middle of a GEMM).
Interleaving the frameworks round by round lets both see the same drift, so the *paired*
per-round ratio cancels most of it; the median over rounds ignores single bad rounds;
and the spread of those per-round values tells how far apart two runs must be before
the difference means anything (``compare``).

Every round records wall time and process CPU time together: CPU time on one BLAS thread
is what other processes cannot distort, wall time is what a user waits for.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CLOCKS = ("wall", "cpu")


def timed(fn: Callable[[], None], steps: int) -> dict[str, float]:
    """Seconds per call of ``fn`` over ``steps`` calls, by wall clock and by CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        fn()
    return {"wall": (time.perf_counter() - wall) / steps,
            "cpu": (time.process_time() - cpu) / steps}


def steps_for(fn: Callable[[], None], target_s: float, most: int = 20) -> int:
    """How many calls make one round last about ``target_s`` (one call measured, warm)."""
    once = timed(fn, 1)["wall"]
    return max(1, min(most, int(target_s / max(once, 1e-5))))


def interleaved(fns: dict[str, Callable[[], None]], rounds: int,
                steps: dict[str, int] | int, warmup: int = 2) -> dict[str, list[dict[str, float]]]:
    """Per-round seconds per call of each function (both clocks), alternating the order
    every round so that no framework always runs first after the other's garbage."""
    counts = steps if isinstance(steps, dict) else {k: steps for k in fns}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in fns}
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(list(fns)))
        for k in order:
            samples[k].append(timed(fns[k], counts[k]))
    return samples


@dataclass(frozen=True)
class Summary:
    """The median of per-round values, their quartiles, and the standard error of the
    median estimated robustly from the median absolute deviation."""

    median: float
    q1: float
    q3: float
    sem: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "q1": self.q1, "q3": self.q3, "sem": self.sem,
                "n": self.n}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        return cls(float(d["median"]), float(d["q1"]), float(d["q3"]), float(d["sem"]),
                   int(d["n"]))

    def text(self, fmt: str = ".2f") -> str:
        return f"{self.median:{fmt}} [{self.q1:{fmt}}-{self.q3:{fmt}}]"


def summarize(values: Sequence[float]) -> Summary:
    """Median, quartiles and the median's standard error of ``values``.

    The standard error is ``1.2533 * sigma / sqrt(n)`` (the median's efficiency for a
    normal sample) with ``sigma = 1.4826 * MAD``: one wild round moves neither.
    """
    if not values:
        raise ValueError("summarize: no values (a benchmark with zero rounds?)")
    vals = sorted(float(v) for v in values)
    med = statistics.median(vals)
    if len(vals) >= 2:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    else:
        q1 = q3 = med
    mad = statistics.median(abs(v - med) for v in vals)
    sem = 1.2533 * 1.4826 * mad / math.sqrt(len(vals))
    return Summary(med, q1, q3, sem, len(vals))


def per_round(samples: list[dict[str, float]], clock: str,
              scale: float = 1.0) -> list[float]:
    """``scale / seconds`` per round: samples/s when ``scale`` is the batch size."""
    return [scale / s[clock] for s in samples]


def paired_ratios(ours: list[dict[str, float]], theirs: list[dict[str, float]],
                  clock: str) -> list[float]:
    """Per-round ``their time / our time``: > 1 means we are faster. Paired by round, so a
    drift of the machine that slows both in one round cancels out."""
    return [t[clock] / o[clock] for o, t in zip(ours, theirs, strict=True)]


NOISE_SIGMAS = 2.0
"""A difference counts when it exceeds this many standard errors of the difference of two
medians (about a 95% two-sided band)."""

RUN_TO_RUN_FLOOR = 0.10
"""The smallest relative band between two *separate* runs. Their rounds' spread cannot
see drift between runs minutes apart: on this project's shared 2-core machine, two runs
of the same tree (CPU time, one thread) differed by up to 10% in the ratio to torch and
15% in samples/s, so ``--compare`` flags only the ratio and never below 10%. For a
precise before/after, ``ab.py`` interleaves both trees in one session instead."""


def noise(before: Summary, after: Summary, floor: float = 0.0) -> float:
    """The band within which two medians are indistinguishable: two standard errors of
    their difference, from both runs' spreads, and at least ``floor`` of the first."""
    return max(NOISE_SIGMAS * math.hypot(before.sem, after.sem), floor * abs(before.median))


def verdict(before: Summary, after: Summary, floor: float = 0.0) -> str:
    """``"faster"``, ``"slower"`` or ``"same"`` for a higher-is-better quantity."""
    band = noise(before, after, floor)
    if after.median < before.median - band:
        return "slower"
    if after.median > before.median + band:
        return "faster"
    return "same"


def compare(before: dict[str, Any], after: dict[str, Any],
            floor: float = RUN_TO_RUN_FLOOR) -> tuple[list[str], int]:
    """Lines comparing two result files (``run.py --json``), and the number of regressions
    beyond the noise, model by model. The ratio to torch is what is judged (torch sees the
    same machine, so it cancels the machine's state); deepgrad's own samples/s is shown."""
    lines: list[str] = []
    regressions = 0
    old = {row["id"]: row for row in before.get("training", [])}
    if before.get("clock") != after.get("clock"):
        lines.append(f"warning: clocks differ (before {before.get('clock')}, after "
                     f"{after.get('clock')}); samples/s are not comparable")
    for row in after.get("training", []):
        prev = old.get(row["id"])
        if prev is None or "ratio_stats" not in prev:
            lines.append(f"{row['id']}: not in the before file")
            continue
        b, a = Summary.from_dict(prev["ratio_stats"]), Summary.from_dict(row["ratio_stats"])
        v = verdict(b, a, floor)
        regressions += v == "slower"
        flag = {"slower": "REGRESSION", "faster": "faster", "same": "same"}[v]
        own_b, own_a = prev["deepgrad_stats"]["median"], row["deepgrad_stats"]["median"]
        lines.append(
            f"{row['id']} {row['model']}: ratio {b.median:.2f} -> {a.median:.2f} "
            f"({(a.median / b.median - 1) * 100:+.1f}%, noise +-"
            f"{noise(b, a, floor) / b.median * 100:.1f}%): {flag}; deepgrad/s "
            f"{own_b:.0f} -> {own_a:.0f} ({(own_a / own_b - 1) * 100:+.1f}%)")
    return lines, regressions
