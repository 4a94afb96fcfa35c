"""One trial in a worker: limit BLAS threads, train, and report what happened.

This is the only code that runs inside a worker, whichever the backend (a
local process or a Ray task). It calls the same function as ``deepgrad
train`` (``deepgrad.lab.experiment.train``, or the sweep file's
``trainer``), writing an ordinary run folder under ``<sweep>/runs/``, and
turns every outcome into a plain result dict: completed, failed (with the
error), pruned (Optuna), or interrupted (Ctrl-C / parent gone).
"""

from __future__ import annotations

import importlib
import inspect
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrialTask", "run_trial", "find_run_dir", "read_outcome", "load_trainer", "cpu_count"]


@dataclass
class TrialTask:
    """Everything a worker needs to run one trial (plain data: it is pickled to the worker)."""

    trial_id: str
    config: dict[str, Any]
    runs_root: str
    trainer: str = "deepgrad.lab.experiment:train"
    resume_dir: str | None = None
    threads: int | None = None
    optuna: dict[str, Any] | None = None  # storage, study_name, trial_id, metric
    sys_path: list[str] = field(default_factory=list)


def cpu_count() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def load_trainer(path: str) -> Any:
    """``"package.module:function"`` -> the function."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"sweep trainer {path!r} cannot be imported: {exc}") from exc


def find_run_dir(runs_root: str | os.PathLike[str], trial_id: str) -> Path | None:
    """The newest run folder of ``trial_id`` under ``runs_root`` (``<trial_id>-<timestamp>``)."""
    root = Path(runs_root)
    if not root.is_dir():
        return None
    found = [p for p in root.glob(f"{trial_id}-*") if p.is_dir() and _is_own(p.name, trial_id)]
    return max(found, key=lambda p: p.name) if found else None


def _is_own(name: str, trial_id: str) -> bool:
    """``003-a-s0-20250101-120000`` belongs to ``003-a-s0``; ``003-a-s0-x-...`` does not."""
    rest = name[len(trial_id) + 1 :]
    head = rest.split("-")
    return len(head) >= 2 and head[0].isdigit() and len(head[0]) == 8


def read_outcome(run_dir: Path | None) -> dict[str, Any]:
    """Status, final metrics, epochs and wall time from a run folder's summary.json."""
    if run_dir is None:
        return {}
    from deepgrad.lab.runs import load_run

    summary = load_run(run_dir).summary if run_dir.is_dir() else {}  # damaged reads as empty
    final = summary.get("final") or {}
    return {
        "run_status": summary.get("status"),
        "final": {k: v for k, v in final.items() if isinstance(v, (int, float)) or v is None},
        "epochs": summary.get("epochs_completed"),
        "run_wall_time": summary.get("wall_time"),
        "run_error": summary.get("error"),
    }


def _limit_threads(threads: int | None) -> Any:
    """A context that caps BLAS/OpenMP threads (so workers x threads <= cores)."""
    import contextlib

    if not threads:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl is in the lab extra; without it, run unlimited
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def _error_text(exc: BaseException) -> str:
    """``ValueError: message`` plus the innermost frame, short enough for a CSV cell."""
    text = f"{type(exc).__name__}: {exc}".strip()
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno})"
    return text[:500]


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Train one trial and return ``{trial_id, status, error, run_dir, final, epochs, ...}``.

    Never raises for a training error: the error is the result. A
    ``KeyboardInterrupt`` (Ctrl-C, or the sweep stopping the trial) gives
    ``status: interrupted``; the run folder keeps its checkpoints for a resume.
    """
    import sys

    for entry in task.sys_path:
        if entry not in sys.path:
            sys.path.append(entry)
    start = time.time()
    status, error = "completed", None
    pruner = None
    run_dir: Path | None = Path(task.resume_dir) if task.resume_dir else None
    try:
        trainer = load_trainer(task.trainer)
        kwargs: dict[str, Any] = {"out": task.runs_root, "quiet": True}
        if task.resume_dir:
            kwargs["resume"] = task.resume_dir
        if task.optuna is not None:
            from .optuna_search import PruningCallback

            pruner = PruningCallback(**task.optuna)
            if "callbacks" not in inspect.signature(trainer).parameters:
                raise TypeError(
                    f"{task.trainer} takes no callbacks; Optuna pruning needs them "
                    "(set search.pruner: none to search without pruning)"
                )
            kwargs["callbacks"] = [pruner]
        config = dict(task.config, name=task.trial_id)
        with _limit_threads(task.threads):
            result = trainer(config, **kwargs)
        if isinstance(result, (str, os.PathLike)):
            run_dir = Path(result)
    except KeyboardInterrupt:
        status, error = "interrupted", "KeyboardInterrupt"
    except Exception as exc:  # noqa: BLE001 - a failed trial is a result, not a crash
        status, error = "failed", _error_text(exc)
    if run_dir is None:
        run_dir = find_run_dir(task.runs_root, task.trial_id)
    outcome = read_outcome(run_dir)
    if status == "completed":
        run_status = outcome.get("run_status")
        if run_status in ("failed", "stopped", "running"):
            # the trainer caught the problem itself and returned; trust its record
            status = "failed" if run_status == "failed" else "interrupted"
            error = outcome.get("run_error") or f"run ended with status {run_status}"
        if pruner is not None and pruner.pruned:
            status = "pruned"
    result_dict: dict[str, Any] = {
        "trial_id": task.trial_id,
        "status": status,
        "error": error,
        "run_dir": str(run_dir) if run_dir is not None else None,
        "final": outcome.get("final", {}),
        "epochs": outcome.get("epochs"),
        "wall_time": time.time() - start,
        "pid": os.getpid(),
    }
    if pruner is not None:
        result_dict["value"] = pruner.last_value
        result_dict["pruned_at"] = pruner.pruned_at
    return result_dict
