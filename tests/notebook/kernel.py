"""Run notebooks in a real Jupyter kernel (nbclient + ipykernel from the ``[notebook]``
extra), the way a student's Jupyter would: one fresh kernel per notebook, in a folder of
the test's own, any error failing the run."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from browser import need

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "examples" / "notebooks"
CELL_TIMEOUT = 300  # seconds: the slowest cell (report 001's CNN epoch) takes ~15 s


def jupyter() -> tuple[Any, Any]:
    """nbformat and nbclient's NotebookClient; skips without them (fails under CI=true)."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        need(False, "nbclient/nbformat/ipykernel are not installed (pip install "
                    "'deepgrad[notebook]')")
    return nbformat, NotebookClient


def execute(notebook: Any, workdir: Path) -> float:
    """Execute ``notebook`` (a NotebookNode, changed in place) with ``workdir`` as the
    kernel's working folder; returns the seconds it took. Raises CellExecutionError
    (naming the cell and the traceback) on the first error."""
    _, client_class = jupyter()
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    src = str(ROOT / "src")  # the kernel imports this checkout's deepgrad
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPLBACKEND"] = "Agg"
    workdir.mkdir(parents=True, exist_ok=True)
    client = client_class(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                          resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start
