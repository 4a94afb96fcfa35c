"""Run folders: write their small files atomically, and read them back, damaged or not.

The file names are ``RunFolder``'s (docs/run-folder.md). The lab writes a
run folder; the report, the sweep and the CLI read it through ``load_run``
and ``list_runs``. A reader never stops at a damaged file (a binary or torn
``metrics.jsonl``, a corrupt ``summary.json`` or ``config.yaml``, a
truncated ``.npz``): it reads what it can and lists what it could not in
``Run.problems``, naming the file, so ``deepgrad runs`` and the report can
say so and carry on.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.atomic import atomic_write_bytes

from .run_folder import RunFolder


# ------------------------------------------------------------------ writing
def create_run_dir(root: str | os.PathLike[str], name: str) -> Path:
    """Make ``root/<name>-<timestamp>/`` (with ``-2``, ``-3``... if that second is taken)."""
    return RunFolder.create(root, name).path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


def to_json(obj: Any) -> str:
    """JSON text of plain data; NumPy scalars become Python numbers, NaN/inf become null."""
    return json.dumps(_finite_or_none(obj), default=_json_default, allow_nan=False)


def _finite_or_none(obj: Any) -> Any:
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    text = json.dumps(_finite_or_none(obj), default=_json_default, indent=2, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def write_yaml(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write plain data as YAML (``yaml.safe_dump``, key order kept)."""
    import yaml

    plain = json.loads(json.dumps(obj, default=_json_default))  # tuples/NumPy -> plain types
    atomic_write_bytes(path, yaml.safe_dump(plain, sort_keys=False).encode())


def write_npz(path: str | os.PathLike[str], arrays: dict[str, Any]) -> None:
    """Atomically write a compressed ``.npz`` (string arrays as unicode, never objects)."""
    buffer = io.BytesIO()
    contents: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez_compressed(buffer, **contents)
    atomic_write_bytes(path, buffer.getvalue())


def machine_info() -> dict[str, Any]:
    return {"platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def versions() -> dict[str, str]:
    import deepgrad

    return {"deepgrad": deepgrad.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


# ------------------------------------------------------------------ reading
DAMAGED = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


def read_jsonl_checked(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    """``(records, dropped)``: every line of a JSON-lines file that parses to a mapping, and
    how many non-empty lines did not (a torn last line, binary garbage)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return [], 0
    records: list[dict[str, Any]] = []
    dropped = 0
    for line in raw.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            dropped += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            dropped += 1
    return records, dropped


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete JSON line of a file (a torn last line from a killed run is skipped)."""
    return read_jsonl_checked(path)[0]


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (never pickled objects), read now; a damaged file raises
    ``ValueError`` naming it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except DAMAGED as error:
        raise ValueError(f"{path}: damaged .npz ({type(error).__name__}: {error}); "
                         "delete it or re-run to rebuild it") from None


class Run:
    """One run folder, read lazily: ``run.epochs``, ``run.summary``, ``run.predictions``...

    A damaged file reads as missing; ``run.problems`` says which and why.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.folder = RunFolder(path)
        self.path = self.folder.path
        if not self.path.is_dir():
            raise FileNotFoundError(f"load_run: {self.path} is not a folder")
        self._cache: dict[str, Any] = {}
        self.problems: list[str] = []
        self.dropped_lines = 0  # lines of metrics.jsonl that could not be read

    @property
    def name(self) -> str:
        return self.path.name

    def _get(self, key: str, load: Any, path: Path, empty: Any) -> Any:
        if key not in self._cache:
            try:
                self._cache[key] = load() if path.exists() else empty
            except DAMAGED as error:
                why = str(error) if str(path) in str(error) else (
                    f"{path}: damaged ({type(error).__name__}: {_first_line(error)})")
                self.problems.append(why)
                self._cache[key] = empty
        return self._cache[key]

    @property
    def config(self) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            import yaml

            from .yaml_io import parse_yaml

            try:
                data = parse_yaml(self.folder.config.read_text(errors="strict"))
            except yaml.YAMLError as error:
                raise ValueError(f"{self.folder.config}: not valid YAML "
                                 f"({_first_line(error)})") from None
            if data is None:
                return {}
            if not isinstance(data, dict):
                raise ValueError(f"{self.folder.config}: expected a mapping, got "
                                 f"{type(data).__name__}")
            return data

        return self._get("config", load, self.folder.config, {})

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every readable line of metrics.jsonl (``dropped_lines`` counts the others)."""
        def load() -> list[dict[str, Any]]:
            records, self.dropped_lines = read_jsonl_checked(self.folder.metrics)
            if self.dropped_lines:
                self.problems.append(f"{self.folder.metrics}: dropped {self.dropped_lines} "
                                     "damaged line(s)")
            return records

        return self._get("metrics", load, self.folder.metrics, [])

    @property
    def steps(self) -> list[dict[str, Any]]:
        return [r for r in self.metrics if r.get("kind") == "step"]

    @property
    def epochs(self) -> list[dict[str, Any]]:
        return [r for r in self.metrics if r.get("kind") == "epoch"]

    @property
    def test(self) -> dict[str, Any]:
        tests = [r for r in self.metrics if r.get("kind") == "test"]
        return tests[-1] if tests else {}

    @property
    def summary(self) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            try:
                data = json.loads(self.folder.summary.read_text(errors="strict"))
            except json.JSONDecodeError as error:
                raise ValueError(f"{self.folder.summary}: not valid JSON ({error})") from None
            if not isinstance(data, dict):
                raise ValueError(f"{self.folder.summary}: expected an object, got "
                                 f"{type(data).__name__}")
            return data

        return self._get("summary", load, self.folder.summary, {})

    def _npz(self, path: Path) -> dict[str, np.ndarray] | None:
        return self._get(path.name, lambda: read_npz(path), path, None)

    @property
    def predictions(self) -> dict[str, np.ndarray] | None:
        return self._npz(self.folder.predictions)

    @property
    def activations(self) -> dict[str, np.ndarray] | None:
        return self._npz(self.folder.activations)

    @property
    def histograms(self) -> dict[str, np.ndarray] | None:
        return self._npz(self.folder.histograms)

    @property
    def boundary(self) -> dict[str, np.ndarray] | None:
        return self._npz(self.folder.boundary)

    def _text(self, path: Path) -> str | None:
        return self._get(path.name, lambda: path.read_text(errors="strict"), path, None)

    @property
    def graph_dot(self) -> str | None:
        return self._text(self.folder.graph)

    @property
    def graph_trace(self) -> dict[str, Any] | None:
        """graph_trace.json: one batch through the autograd graph (``lab.graph_trace``)."""
        path = self.folder.graph_trace

        def load() -> dict[str, Any]:
            try:
                data = json.loads(path.read_text(errors="strict"))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not valid JSON ({error})") from None
            if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
                raise ValueError(f"{path}: expected an object with a list of nodes")
            return data

        return self._get("graph_trace", load, path, None)

    @property
    def model_txt(self) -> str | None:
        return self._text(self.folder.model)

    @property
    def checkpoints(self) -> dict[str, Path]:
        """``{"last": path, "best": path, "epoch-0003": path}`` for the checkpoints present."""
        return self.folder.checkpoint_files()

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    def column(self, key: str) -> list[Any]:
        """One key across epoch records (None where missing): ``run.column("val_loss")``."""
        return [r.get(key) for r in self.epochs]

    def check(self) -> list[str]:
        """Read every file now; return the problems found (empty for a sound folder)."""
        for name in ("config", "metrics", "summary", "predictions", "activations",
                     "histograms", "boundary", "graph_dot", "graph_trace", "model_txt"):
            getattr(self, name)
        return list(self.problems)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status}, epochs={len(self.epochs)})"

    def _repr_html_(self) -> str:
        """Jupyter's view: status, learning curves, final metrics, unreadable files
        (``deepgrad.lab.show(run)`` shows the whole report)."""
        from deepgrad.notebook.run_view import run_html

        return run_html(self)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_run(path: str | os.PathLike[str]) -> Run:
    """Open a run folder for reading."""
    return Run(path)


def is_run_dir(path: Path) -> bool:
    return RunFolder(path).is_run()


def iter_run_dirs(root: str | os.PathLike[str]) -> Iterator[Path]:
    root = Path(root)
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if is_run_dir(path):
            yield path


_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-(\d+))?$")


def _started(path: Path) -> tuple[str, int, str]:
    match = _STAMP.search(path.name)
    if match:
        return match.group(1), int(match.group(2) or 1), path.name
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime)), 0, path.name


def list_runs(root: str | os.PathLike[str] = "runs") -> list[Run]:
    """Every run folder directly under ``root``, oldest first (by the timestamp in its name)."""
    return [Run(p) for p in sorted(iter_run_dirs(root), key=_started)]
