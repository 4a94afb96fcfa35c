"""RunFolder: the name of every file of a run, for the writers and the readers alike.

A run folder is ``<root>/<name>-<YYYYmmdd-HHMMSS>/``; docs/run-folder.md is
its contract (what each file holds, who writes it, when). ``fit`` writes it,
``Run`` (``deepgrad.lab.runs``), the report, the sweep and the CLI read it,
and all of them name its files through this class, so a file cannot be
renamed in one place and looked for under the old name in another.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["RunFolder", "CHECKPOINT_SUFFIX"]

CHECKPOINT_SUFFIX = ".safetensors"


class RunFolder:
    """Paths of one run folder (nothing is created until a writer asks)."""

    CONFIG = "config.yaml"
    METRICS = "metrics.jsonl"
    SUMMARY = "summary.json"
    CHECKPOINTS = "checkpoints"
    PREDICTIONS = "predictions.npz"
    ACTIVATIONS = "activations.npz"
    HISTOGRAMS = "histograms.npz"
    BOUNDARY = "boundary.npz"
    GRAPH = "graph.dot"
    GRAPH_TRACE = "graph_trace.json"
    MODEL = "model.txt"
    TENSORBOARD = "tb"
    REPORT = "report.html"
    #: Any of these marks a folder as a run (a run killed early may have only the config).
    MARKERS = (SUMMARY, METRICS, CONFIG)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    # ---- files -------------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    @property
    def summary(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def checkpoints(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def predictions(self) -> Path:
        return self.path / self.PREDICTIONS

    @property
    def activations(self) -> Path:
        return self.path / self.ACTIVATIONS

    @property
    def histograms(self) -> Path:
        return self.path / self.HISTOGRAMS

    @property
    def boundary(self) -> Path:
        return self.path / self.BOUNDARY

    @property
    def graph(self) -> Path:
        return self.path / self.GRAPH

    @property
    def graph_trace(self) -> Path:
        return self.path / self.GRAPH_TRACE

    @property
    def model(self) -> Path:
        return self.path / self.MODEL

    @property
    def tensorboard(self) -> Path:
        return self.path / self.TENSORBOARD

    @property
    def report(self) -> Path:
        return self.path / self.REPORT

    # ---- checkpoints -------------------------------------------------------------
    def checkpoint(self, name: str) -> Path:
        """``checkpoints/<name>.safetensors`` (``last``, ``best``, ``epoch-0003``)."""
        return self.checkpoints / f"{name}{CHECKPOINT_SUFFIX}"

    @property
    def last(self) -> Path:
        return self.checkpoint("last")

    @property
    def best(self) -> Path:
        return self.checkpoint("best")

    def checkpoint_files(self) -> dict[str, Path]:
        """``{"best": path, "epoch-0003": path, "last": path}`` for those present, by name."""
        if not self.checkpoints.is_dir():
            return {}
        return {p.name[: -len(CHECKPOINT_SUFFIX)]: p
                for p in sorted(self.checkpoints.glob(f"*{CHECKPOINT_SUFFIX}"))}

    def newest_checkpoints(self) -> list[Path]:
        """Every checkpoint, newest first (by modification time, ``last`` first on a tie)."""
        files = list(self.checkpoint_files().values())
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.stem == "last"),
                      reverse=True)

    # ---- folders -----------------------------------------------------------------
    def is_run(self) -> bool:
        """True when the folder holds any of the files every run writes first."""
        return self.path.is_dir() and any((self.path / f).exists() for f in self.MARKERS)

    @classmethod
    def create(cls, root: str | os.PathLike[str], name: str) -> RunFolder:
        """Make ``root/<name>-<timestamp>/`` (with ``-2``, ``-3``... if that second is taken)."""
        base = Path(root)
        base.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "run"
        for k in range(1, 1000):
            path = base / (f"{safe}-{stamp}" if k == 1 else f"{safe}-{stamp}-{k}")
            try:
                path.mkdir()
                return cls(path)
            except FileExistsError:
                continue
        raise RuntimeError(f"RunFolder.create: could not make a new folder for {name!r} "
                           f"under {base}")
