"""deepgrad keeps freed big arrays in the heap (glibc's mallopt), so a training step's
repeated allocations stop faulting fresh pages in; DEEPGRAD_MALLOC_TUNING=0 turns it off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Allocate and touch a 64 MiB array, free it, and print how much of it stays resident (MiB):
# kept in the heap for the next step when tuned, handed back to the OS (munmap) when not.
LOOP = """
import numpy as np
import deepgrad

def rss():
    with open('/proc/self/status') as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith('VmRSS:')) / 1024

before = rss()
a = np.ones(16 * 2**20, dtype=np.float32)
del a
print(rss() - before)
"""


def _kept_mib(tuning: str) -> float:
    env = dict(os.environ, PYTHONPATH=SRC, DEEPGRAD_MALLOC_TUNING=tuning)
    out = subprocess.run([sys.executable, "-c", LOOP], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_freed_big_arrays_stay_in_the_heap() -> None:
    from deepgrad.autograd import allocator

    if os.environ.get("DEEPGRAD_MALLOC_TUNING") == "0" or not allocator.tune():
        pytest.skip("not glibc, or tuning turned off in this environment")
    assert _kept_mib("1") > 48        # the 64 MiB block waits for the next allocation
    assert _kept_mib("0") < 16        # glibc's default: unmapped at once


def test_tuning_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepgrad.autograd import allocator

    monkeypatch.setenv("DEEPGRAD_MALLOC_TUNING", "0")
    assert allocator.tune() is False
