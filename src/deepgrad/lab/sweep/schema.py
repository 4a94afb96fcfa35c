"""The sweep file's schema, checked by the config validator (``deepgrad.lab.config.from_dict``).

Keys and types of a sweep file are checked by the same code as a config
file's: the same "unknown key 'grdi' (did you mean 'grid'?)" and "expected an
integer, got 'one'" messages. What the schema cannot say (ranges, choices
that depend on each other, the distribution mini-language) is checked in
``spec.parse_sweep``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

DEFAULT_TRAINER = "deepgrad.lab.experiment:train"


class SweepError(ValueError):
    """A sweep file that cannot be used; the message names the file, the key and the fix."""


def unknown(key: str, allowed: tuple[str, ...] | list[str], where: str) -> SweepError:
    """The config validator's unknown-key message (closest match, allowed keys), as a
    SweepError."""
    from deepgrad.lab.validator import unknown_key

    return SweepError(str(unknown_key(key, list(allowed), where)))


@dataclass
class PrunerSection:
    """``pruner: {name: median, n_startup_trials: 2, n_warmup_steps: 1}``."""

    name: str = "median"
    n_startup_trials: int = 2
    n_warmup_steps: int = 1


@dataclass
class RandomSection:
    """``random: {n: 8, seed: 0, params: {optimizer.lr: {log_uniform: [1e-4, 1e-1]}}}``."""

    n: int
    params: Any
    seed: int = 0


@dataclass
class SearchSection:
    """``search:`` an Optuna study (``method: optuna``)."""

    n_trials: int
    metric: str
    params: Any
    method: str = "optuna"
    direction: str | None = None  # default: the registry's direction of ``metric``
    sampler: str = "tpe"
    seed: int = 0
    n_startup_trials: int = 5
    pruner: Any = "median"  # median, none, or a PrunerSection mapping
    storage: str | None = None
    study_name: str | None = None


@dataclass
class SweepFile:
    """The top level of a sweep file (and of each of its ``profiles``)."""

    name: str | None = None
    description: str | None = None
    report: str | None = None
    base: Any = None  # a zoo model name, a config path, another sweep file, or a mapping
    set: dict[str, Any] | None = None
    seeds: int | builtins.list[int] | None = None  # builtins: ``list`` is a key below
    metric: str | None = None
    grid: Any = None  # {dotted key: [values]}
    list: Any = None  # [{name: ..., dotted key: value}]
    random: RandomSection | None = None
    search: SearchSection | None = None
    profiles: dict[str, Any] | None = None
    trainer: str = DEFAULT_TRAINER


TOP_KEYS = tuple(SweepFile.__dataclass_fields__)
