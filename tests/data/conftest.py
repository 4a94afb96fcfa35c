"""Fixtures for the data tests: where the real datasets are, and isolated data folders.

The real datasets are found through ``DEEPGRAD_DATA``, pointed at
``<repo>/../shared/datasets`` when that folder exists. Tests that need them
skip when they are absent, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

SHARED = (Path(__file__).parents[2] / ".." / "shared" / "datasets").resolve()
if SHARED.is_dir():
    os.environ.setdefault("DEEPGRAD_DATA", str(SHARED))
REAL_DATA = Path(os.environ.get("DEEPGRAD_DATA", str(SHARED)))


def _need(relative: str) -> Path:
    path = REAL_DATA / relative
    if not path.exists():
        message = f"real dataset {path} not found (set DEEPGRAD_DATA; expected {SHARED})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def real_data() -> Callable[[str], Path]:
    """``real_data("mnist")`` -> the path inside the real-data folder, or skip/fail."""
    return _need


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty DEEPGRAD_DATA, DEEPGRAD_CACHE and HOME under tmp_path: nothing real is found."""
    for name in ("data", "cache", "home"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("DEEPGRAD_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEEPGRAD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path
