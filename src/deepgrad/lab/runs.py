"""Run folders: create them, write their small files atomically, and read them back.

A run folder is ``runs/<name>-<YYYYmmdd-HHMMSS>/``; its contents are the
contract in ``notes/runfolder.md`` (config.yaml, metrics.jsonl,
summary.json, checkpoints/, predictions.npz, activations.npz,
histograms.npz, boundary.npz, graph.dot, model.txt, tb/). The lab writes
it; the report and the sweep read it through ``load_run`` and ``list_runs``.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


# ------------------------------------------------------------------ writing
def create_run_dir(root: str | os.PathLike[str], name: str) -> Path:
    """Make ``root/<name>-<timestamp>/`` (with ``-2``, ``-3``... if that second is taken)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "run"
    for k in range(1, 1000):
        path = root / (f"{safe}-{stamp}" if k == 1 else f"{safe}-{stamp}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"create_run_dir: could not make a new folder for {name!r} under {root}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush, fsync, rename: readers never see half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give it a normal file's mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _umask()


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
def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete JSON line of a file (a torn last line from a killed run is skipped)."""
    records = []
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class Run:
    """One run folder, read lazily: ``run.epochs``, ``run.summary``, ``run.predictions``..."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"load_run: {self.path} is not a folder")
        self._cache: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.path.name

    def _get(self, key: str, load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    @property
    def config(self) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            import yaml

            path = self.path / "config.yaml"
            return yaml.safe_load(path.read_text()) or {} if path.exists() else {}

        return self._get("config", load)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every line of metrics.jsonl."""
        return self._get("metrics", lambda: read_jsonl(self.path / "metrics.jsonl"))

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
            path = self.path / "summary.json"
            return json.loads(path.read_text()) if path.exists() else {}

        return self._get("summary", load)

    def _npz(self, name: str) -> dict[str, np.ndarray] | None:
        def load() -> dict[str, np.ndarray] | None:
            path = self.path / name
            if not path.exists():
                return None
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}

        return self._get(name, load)

    @property
    def predictions(self) -> dict[str, np.ndarray] | None:
        return self._npz("predictions.npz")

    @property
    def activations(self) -> dict[str, np.ndarray] | None:
        return self._npz("activations.npz")

    @property
    def histograms(self) -> dict[str, np.ndarray] | None:
        return self._npz("histograms.npz")

    @property
    def boundary(self) -> dict[str, np.ndarray] | None:
        return self._npz("boundary.npz")

    def _text(self, name: str) -> str | None:
        path = self.path / name
        return path.read_text() if path.exists() else None

    @property
    def graph_dot(self) -> str | None:
        return self._text("graph.dot")

    @property
    def model_txt(self) -> str | None:
        return self._text("model.txt")

    @property
    def checkpoints(self) -> dict[str, Path]:
        """``{"last": path, "best": path, "epoch-0003": path}`` for the checkpoints present."""
        folder = self.path / "checkpoints"
        if not folder.is_dir():
            return {}
        return {p.name[: -len(".safetensors")]: p for p in sorted(folder.glob("*.safetensors"))}

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))

    def column(self, key: str) -> list[Any]:
        """One key across epoch records (None where missing): ``run.column("val_loss")``."""
        return [r.get(key) for r in self.epochs]

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status}, epochs={len(self.epochs)})"


def load_run(path: str | os.PathLike[str]) -> Run:
    """Open a run folder for reading."""
    return Run(path)


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / f).exists() for f in ("summary.json", "metrics.jsonl", "config.yaml"))


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
