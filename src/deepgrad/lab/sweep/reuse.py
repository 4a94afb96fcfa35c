"""Finished runs a sweep may take instead of training a trial again (``--reuse FOLDER``).

The course's studies share trials: report 001's SELU study's ReLU trial is its
pooling study's max-pool trial and its L2 study's 1e-3 trial, the same config
down to the seed. Training is deterministic, so a finished run of the same
training *is* that trial: on a 2-core machine each copy saves 15-25 minutes.

"The same training" is the whole validated config but for what names and logs
it (``name``, ``description``, ``logging``), with the model's, optimizer's and
scheduler's defaults written out (``weight_decay: 0`` is what no
``weight_decay`` means); ``data.root`` counts, since two folders may hold two
different data sets. Only runs that completed are taken, and they are copied,
never moved, so the source sweep stays whole.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from deepgrad.atomic import atomic_write_text
from deepgrad.lab.run_folder import RunFolder

from .spec import SweepError
from .trials import config_hash

__all__ = ["FinishedRuns", "training_key", "REUSED_FILE"]

IGNORED = ("name", "description", "logging")
"""Config keys that change where and how a run is recorded, not what it trains."""

REUSED_FILE = "reused.json"
"""Written into a copied run folder: where it came from and when."""


def training_key(config: dict[str, Any]) -> str:
    """A fingerprint of what a config trains (``IGNORED`` keys left out, defaults filled)."""
    from deepgrad.lab.registry import optimizer_class, scheduler_class
    from deepgrad.lab.zoo.registry import get_spec

    plain = {k: v for k, v in config.items() if k not in IGNORED}
    for section, lookup, skip in (("model", lambda n: get_spec(n).builder, ()),
                                  ("optimizer", optimizer_class, ("params",)),
                                  ("scheduler", scheduler_class, ("optimizer",))):
        value = plain.get(section)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            try:
                target = lookup(value["name"])
            except (KeyError, ValueError):  # unknown here: compare as written
                continue
            plain[section] = {**_defaults(target, skip), **value}
    return config_hash(_numbers(plain))


def _numbers(value: Any) -> Any:
    """Every number a float, so ``weight_decay: 0`` and ``0.0`` hash alike (bools stay)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _defaults(fn: Any, skip: tuple[str, ...]) -> dict[str, Any]:
    """The keyword defaults of ``fn`` (a class: its ``__init__``), tuples as lists."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if name in skip or name == "self" or p.default is inspect.Parameter.empty:
            continue
        out[name] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


class FinishedRuns:
    """The completed run folders under some folders, by ``training_key`` of their config."""

    def __init__(self, folders: list[str | os.PathLike[str]]) -> None:
        from deepgrad.lab.yaml_io import load_yaml

        self.by_key: dict[str, Path] = {}
        for folder in map(Path, folders):
            if not folder.is_dir():
                raise SweepError(f"--reuse {folder}: no such folder")
            for config_path in sorted(folder.rglob(RunFolder.CONFIG)):
                run = config_path.parent
                if not _completed(run):
                    continue
                try:
                    config = load_yaml(config_path)
                except (OSError, ValueError):  # damaged: not a run to trust
                    continue
                if isinstance(config, dict):
                    self.by_key.setdefault(training_key(config), run)

    def __len__(self) -> int:
        return len(self.by_key)

    def find(self, config: dict[str, Any]) -> Path | None:
        """A completed run that trained ``config`` (a trial's validated config), or None."""
        return self.by_key.get(training_key(config))

    @staticmethod
    def adopt(source: Path, runs_root: Path, trial_id: str) -> Path:
        """Copy ``source`` in as ``trial_id``'s run folder (the name the sweep looks for)."""
        runs_root.mkdir(parents=True, exist_ok=True)
        dest = runs_root / f"{trial_id}-{time.strftime('%Y%m%d-%H%M%S')}"
        partial = runs_root / f".{dest.name}.copying"  # a stop mid-copy leaves no half run
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        atomic_write_text(partial / REUSED_FILE, json.dumps(
            {"source": str(source.resolve()), "copied": time.strftime("%Y-%m-%d %H:%M:%S")},
            indent=1))
        partial.rename(dest)
        return dest


def _completed(run: Path) -> bool:
    try:
        summary = json.loads((run / RunFolder.SUMMARY).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("status") == "completed"
