"""Fixtures of the report tests: synthetic run folders written by hand to the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import synthetic_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A classification run with every optional file but the decision boundary."""
    return synthetic_run.write_run(tmp_path)


@pytest.fixture
def hist() -> dict:
    return synthetic_run.histograms()
