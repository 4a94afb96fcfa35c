"""The trials of a sweep: what a parsed sweep file is (``SweepSpec``), how its variants
are named, and how it expands into trials, each a full validated config.

Expansion is deterministic (random samples come from a seeded generator), so re-running
a sweep finds the same trials and can resume them. Parsing the file is ``spec``.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .distributions import Distribution
from .schema import DEFAULT_TRAINER, SweepError

__all__ = [
    "Variant",
    "Trial",
    "RandomSpec",
    "SearchSpec",
    "SweepSpec",
    "metric_direction",
    "deep_merge",
    "set_dotted",
    "config_hash",
    "short_value",
    "variant_name",
    "slug",
    "trial_config",
    "variants",
    "make_trial_id",
    "expand",
]


# ----------------------------------------------------------------------------- pieces


@dataclass(frozen=True)
class Variant:
    """A named set of dotted overrides (``{"optimizer.lr": 0.01}``) on the base config."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trial:
    """One run of the sweep: a variant with one seed, and the full config it trains."""

    index: int
    trial_id: str  # also the run folder's name, e.g. ``003-relu-s1``
    variant: str
    overrides: dict[str, Any]
    seed: int
    config: dict[str, Any]  # plain mapping, validated
    search_number: int | None = None  # the Optuna trial number, for searches
    key: str = ""  # fingerprint of base + overrides + seed: a changed sweep is caught on resume


@dataclass(frozen=True)
class RandomSpec:
    """``random: {n, seed, params}``: ``n`` samples, drawn with generator ``seed``."""

    n: int
    params: dict[str, Distribution]
    seed: int = 0


@dataclass(frozen=True)
class SearchSpec:
    """``search:`` an Optuna study over ``params`` (TPE sampler, median pruner by default)."""

    n_trials: int
    metric: str
    direction: str
    params: dict[str, Distribution]
    method: str = "optuna"
    sampler: str = "tpe"
    seed: int = 0
    n_startup_trials: int = 5
    pruner: str | None = "median"
    pruner_startup_trials: int = 2
    pruner_warmup_steps: int = 1
    storage: str | None = None  # default: sqlite in the sweep folder
    study_name: str | None = None  # default: the sweep name


@dataclass
class SweepSpec:
    """A parsed, validated sweep file."""

    name: str
    base: dict[str, Any]  # the base config mapping with ``set`` applied
    seeds: list[int]
    metric: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    random: RandomSpec | None = None
    search: SearchSpec | None = None
    description: str | None = None
    report: str | None = None
    profile: str | None = None
    profiles: tuple[str, ...] = ()
    trainer: str = DEFAULT_TRAINER
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the file after the profile was merged

    @property
    def varied(self) -> list[str]:
        """The dotted keys that change between trials, in file order."""
        keys: dict[str, None] = {}
        for v in self.variants:
            keys.update(dict.fromkeys(v.overrides))
        keys.update(dict.fromkeys(self.grid))
        if self.random is not None:
            keys.update(dict.fromkeys(self.random.params))
        if self.search is not None:
            keys.update(dict.fromkeys(self.search.params))
        return list(keys)

    @property
    def direction(self) -> str:
        """``maximize`` for accuracies, ``minimize`` for losses and errors."""
        if self.search is not None and self.search.metric == self.metric:
            return self.search.direction
        return metric_direction(self.metric)


def metric_direction(metric: str) -> str:
    """``maximize`` or ``minimize``, as the registry says ``metric`` improves; ``maximize``
    for what is not a known score (a sweep file names its direction for those)."""
    from deepgrad.lab.registry import monitor_direction

    return "minimize" if monitor_direction(metric) == "min" else "maximize"


# ----------------------------------------------------------------------------- helpers


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``extra`` merged in: mappings recursively, the rest replaced."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_dotted(config: dict[str, Any], key: str, value: Any) -> None:
    """Set ``model.widths`` (a dotted key) in a raw config mapping, in place: the config's
    own setter (``deepgrad.lab.config.set_dotted``), its errors as SweepErrors."""
    from deepgrad.lab import config as cfg

    try:
        cfg.set_dotted(config, key, value, where="sweep key")
    except cfg.ConfigError as error:
        raise SweepError(str(error)) from None


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable fingerprint of a config mapping (to spot a changed sweep on resume)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def short_value(value: Any) -> str:
    """A setting as it appears in variant names and figure legends: ``0.001``, ``1e-35``,
    ``1e35`` (no ``+``: file names turn it into ``-``, and 1e+35 became 1e-35), ``32x16``."""
    if isinstance(value, float):
        return f"{value:g}".replace("e+", "e")
    if isinstance(value, (list, tuple)):
        return "x".join(short_value(v) for v in value)
    if isinstance(value, dict):
        return "-".join(f"{k}{short_value(v)}" for k, v in value.items())
    return str(value)


def _label(key: str) -> str:
    """``optimizer.lr`` -> ``lr``; ``loss.name`` -> ``loss`` (a name says which section)."""
    parts = key.split(".")
    return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]


def variant_name(overrides: dict[str, Any]) -> str:
    """``{"model.activation": "tanh", "loss.name": "mae"}`` -> ``activation=tanh,loss=mae``."""
    if not overrides:
        return "base"
    return ",".join(f"{_label(k)}={short_value(v)}" for k, v in overrides.items())


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe variant name: ``activation=tanh,lr=0.01`` -> ``activation_tanh-lr_0.01``.

    Only letters, digits, ``.``, ``_`` and ``-`` survive, the characters run
    folders keep, so a trial's run folder is ``<trial id>-<timestamp>``.
    """
    s = re.sub(r"[=:]+", "_", text)
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-._")
    return (s or "variant")[:limit]


# ----------------------------------------------------------------------------- parsing


# ----------------------------------------------------------------------------- expansion


def trial_config(
    spec: SweepSpec, overrides: dict[str, Any], seed: int, label: str, *, validate: bool = True
) -> dict[str, Any]:
    """The base config with ``overrides`` and ``seed`` applied, checked against the schema."""
    from deepgrad.lab import config as cfg

    raw = copy.deepcopy(spec.base)
    where = f"{spec.source or spec.name}: variant {label!r} (seed {seed})"
    try:
        for key, value in overrides.items():
            set_dotted(raw, key, value)
    except SweepError as exc:
        raise SweepError(f"{where}: {exc}") from None
    raw["seed"] = seed
    if validate:
        try:
            config = cfg.validate(cfg.from_dict(cfg.Config, copy.deepcopy(raw)))
        except (cfg.ConfigError, KeyError, ValueError, TypeError) as exc:
            raise SweepError(f"{where}: {exc}") from None
        return _plain(config.to_dict())
    return raw


def _plain(value: Any) -> Any:
    """Tuples to lists (validated kwargs may hold tuples), so the mapping is YAML/JSON plain."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def variants(spec: SweepSpec) -> list[Variant]:
    """Every variant of a static sweep: list x grid, or the random samples."""
    if spec.random is not None:
        rng = np.random.default_rng(spec.random.seed)
        out = []
        for i in range(spec.random.n):
            sample = {k: d.sample(rng) for k, d in spec.random.params.items()}
            out.append(Variant(f"r{i:02d}:{variant_name(sample)}", sample))
        return out
    base_list = spec.variants or [Variant("base", {})]
    if not spec.grid:
        return list(base_list)
    keys = list(spec.grid)
    out = []
    for v in base_list:
        for combo in itertools.product(*(spec.grid[k] for k in keys)):
            grid_part = dict(zip(keys, combo, strict=True))
            name = variant_name(grid_part)
            if spec.variants:
                name = f"{v.name},{name}"
            out.append(Variant(name, {**v.overrides, **grid_part}))
    return out


def make_trial_id(index: int, variant: str, seed: int) -> str:
    """``007-activation=tanh-s2``: sorts in sweep order, names the variant and seed."""
    return f"{index:03d}-{slug(variant)}-s{seed}"


def expand(spec: SweepSpec, *, validate: bool = True) -> list[Trial]:
    """All trials of a grid/list/random sweep in run order (variant-major, then seed).

    A search sweep expands to no trials: Optuna proposes them while it runs.
    """
    if spec.search is not None:
        return []
    trials: list[Trial] = []
    for v in variants(spec):
        for seed in spec.seeds:
            index = len(trials)
            config = trial_config(spec, v.overrides, seed, v.name, validate=validate)
            key = config_hash(trial_config(spec, v.overrides, seed, v.name, validate=False))
            trials.append(
                Trial(index, make_trial_id(index, v.name, seed), v.name, dict(v.overrides),
                      seed, config, key=key)
            )
    ids = [t.trial_id for t in trials]
    if len(set(ids)) != len(ids):  # only possible if slugs collide after truncation
        raise SweepError(f"{spec.source or spec.name}: two trials share the folder name")
    return trials
