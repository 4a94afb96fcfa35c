"""Test setup shared by every folder: the data location and a fixed seed per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "datasets").resolve()
sys.path.insert(0, str(Path(__file__).resolve().parent))

if "DEEPGRAD_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["DEEPGRAD_DATA"] = str(SHARED_DATA)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed() -> None:
    import deepgrad

    deepgrad.manual_seed(0)


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread() -> object:
    """Tests use small matrices: one BLAS thread is faster for them and immune to a busy
    machine (multi-threaded BLAS on small GEMMs collapses when cores are oversubscribed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in the dev extra
        yield None
        return
    with threadpool_limits(1):
        yield None
