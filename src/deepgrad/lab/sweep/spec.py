"""Sweep files: a base config plus what varies, checked on load and expanded into trials.

A sweep file is YAML::

    name: 000-init
    base: mlp                        # a zoo model, a config file, another sweep file's
                                     # base, or an inline config
    set: {epochs: 5}                 # dotted overrides on the base (optional)
    seeds: [0, 1, 2]                 # every variant runs once per seed
    metric: val_accuracy             # the headline metric of the summary
    grid:                            # cartesian product of these values
      model.activation: [relu, tanh]
      optimizer.lr: [0.01, 0.001]
    list:                            # explicit, named variants (x grid, when both are given)
      - {name: sgd, optimizer.name: sgd}
      - {name: adam, optimizer.name: adam, optimizer.lr: 0.001}
    random:                          # or: n samples from distributions
      n: 8
      params: {optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}}
    search:                          # or: an Optuna search (TPE, median pruning)
      method: optuna
      n_trials: 20
      metric: val_accuracy
      direction: maximize
      params: {optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}}
    profiles:
      quick: {set: {data.subset: 1000, epochs: 2}, seeds: [0]}

Every trial's config is validated like a config file when the sweep is
loaded, so a typo in the tenth variant fails before the first one trains.
Expansion is deterministic (random samples come from a seeded generator),
so re-running a sweep finds the same trials and can resume them.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .distributions import Distribution, parse_params
from .schema import (
    DEFAULT_TRAINER,
    TOP_KEYS,
    PrunerSection,
    RandomSection,
    SearchSection,
    SweepError,
    SweepFile,
)
from .schema import (
    unknown as _unknown,
)

__all__ = [
    "SweepError",
    "Distribution",
    "Variant",
    "Trial",
    "RandomSpec",
    "SearchSpec",
    "SweepSpec",
    "load_sweep",
    "parse_sweep",
    "expand",
    "trial_config",
    "set_dotted",
    "variant_name",
    "config_hash",
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


def _where(source: Path | None, key: str) -> str:
    return f"{source}: {key}" if source is not None else key


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


def _checked(cls: type, value: Any, where: str, source: Path | None) -> Any:
    """``value`` read by the config validator into schema ``cls``; its errors as SweepErrors."""
    from deepgrad.lab.validator import ConfigError, from_dict

    try:
        return from_dict(cls, value, where)
    except ConfigError as exc:
        raise SweepError(f"{source}: {exc}" if source is not None else str(exc)) from None


def _at_least(value: int, minimum: int, where: str) -> int:
    if value < minimum:
        raise SweepError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _parse_random(section: RandomSection, where: str) -> RandomSpec:
    return RandomSpec(
        n=_at_least(section.n, 1, f"{where}.n"),
        params=parse_params(section.params, f"{where}.params"),
        seed=_at_least(section.seed, 0, f"{where}.seed"),
    )


def _parse_search(section: SearchSection, where: str, source: Path | None) -> SearchSpec:
    if section.method != "optuna":
        raise SweepError(f"{where}.method: only 'optuna' is supported, got {section.method!r}")
    direction = section.direction or metric_direction(section.metric)
    if direction not in ("maximize", "minimize"):
        raise SweepError(f"{where}.direction: expected maximize or minimize, got {direction!r}")
    if section.sampler not in ("tpe", "random"):
        raise SweepError(f"{where}.sampler: expected tpe or random, got {section.sampler!r}")
    raw = section.pruner
    if raw is None or raw in ("none", False):
        pruner = PrunerSection(name="none")
    elif isinstance(raw, str):
        pruner = PrunerSection(name=raw)
    elif isinstance(raw, dict):
        pruner = _checked(PrunerSection, raw, "search.pruner", source)
    else:
        raise SweepError(f"{where}.pruner: expected median, none or a mapping, got {raw!r}")
    if pruner.name not in ("none", "median"):
        raise SweepError(f"{where}.pruner: expected median or none, got {pruner.name!r}")
    return SearchSpec(
        n_trials=_at_least(section.n_trials, 1, f"{where}.n_trials"),
        metric=section.metric,
        direction=direction,
        params=parse_params(section.params, f"{where}.params"),
        sampler=section.sampler,
        seed=_at_least(section.seed, 0, f"{where}.seed"),
        n_startup_trials=_at_least(section.n_startup_trials, 0, f"{where}.n_startup_trials"),
        pruner=None if pruner.name == "none" else pruner.name,
        pruner_startup_trials=_at_least(pruner.n_startup_trials, 0,
                                        f"{where}.pruner.n_startup_trials"),
        pruner_warmup_steps=_at_least(pruner.n_warmup_steps, 0,
                                      f"{where}.pruner.n_warmup_steps"),
        storage=section.storage,
        study_name=section.study_name,
    )


def _parse_list(value: Any, where: str) -> list[Variant]:
    if not isinstance(value, list) or not value:
        raise SweepError(f"{where}: expected a non-empty list of variants like "
                         "{name: adam, optimizer.name: adam}")
    out: list[Variant] = []
    names: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise SweepError(f"{where}[{i}]: expected a mapping of dotted keys, got {item!r}")
        overrides = {str(k): v for k, v in item.items() if k != "name"}
        name = item.get("name", variant_name(overrides))
        if not isinstance(name, str) or not name:
            raise SweepError(f"{where}[{i}].name: expected a non-empty string, got {name!r}")
        if name in names:
            raise SweepError(f"{where}[{i}]: variant name {name!r} is used twice")
        names.add(name)
        out.append(Variant(name, overrides))
    return out


def _parse_grid(value: Any, where: str) -> dict[str, list[Any]]:
    if not isinstance(value, dict) or not value:
        raise SweepError(f"{where}: expected a mapping of dotted keys to lists of values")
    grid: dict[str, list[Any]] = {}
    for key, values in value.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"{where}.{key}: expected a non-empty list of values, got {values!r}")
        grid[str(key)] = values
    return grid


def _resolve_base(base: Any, source: Path | None, depth: int = 0) -> dict[str, Any]:
    """The base config mapping from a zoo name, a config file, another sweep file or a mapping.

    A sweep file as base means its base with its ``set`` applied, so the
    studies of one report can share one base without repeating it.
    """
    from deepgrad.lab import config as cfg
    from deepgrad.lab import zoo

    where = _where(source, "base")
    if isinstance(base, dict):
        return copy.deepcopy(base)
    if not isinstance(base, str):
        raise SweepError(f"{where}: expected a zoo model name, a config path or a mapping")
    if base in zoo.list_models() and not base.endswith((".yaml", ".yml")):
        return zoo.default_config(base)
    candidates = [Path(base)]
    if source is not None and not Path(base).is_absolute():
        candidates.insert(0, source.parent / base)
    for path in candidates:
        if path.is_file():
            try:
                data = cfg.load_yaml(path)
            except cfg.ConfigError as exc:
                raise SweepError(f"{where}: {exc}") from None
            if "base" in data and "model" not in data:  # another sweep: its base and set
                if depth > 5:
                    raise SweepError(f"{where}: sweep files refer to each other in a loop")
                inherited = _resolve_base(data["base"], path, depth + 1)
                for key, value in (data.get("set") or {}).items():
                    set_dotted(inherited, str(key), value)
                return inherited
            return data
    close = difflib.get_close_matches(base, zoo.list_models(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SweepError(
        f"{where}: {base!r} is neither a zoo model{hint} nor a config file "
        f"(looked in {', '.join(str(c) for c in candidates)}); models: "
        f"{', '.join(zoo.list_models())}"
    )


def parse_sweep(
    data: dict[str, Any],
    *,
    source: Path | None = None,
    profile: str | None = None,
    overrides: dict[str, Any] | None = None,
    validate: bool = True,
) -> SweepSpec:
    """A checked ``SweepSpec`` from a sweep mapping; ``profile`` merges ``profiles[profile]``.

    ``overrides`` (dotted keys) apply to the base after the file's ``set``,
    like ``--set`` on the command line. With ``validate`` every expanded
    trial's config is checked against the config schema now.
    """
    if not isinstance(data, dict):
        raise SweepError(f"{source or 'sweep'}: expected a mapping at top level")
    top = _checked(SweepFile, data, "", source)
    profiles = top.profiles or {}
    if profile is not None:
        if profile not in profiles:
            have = ", ".join(profiles) or "none"
            raise SweepError(f"{_where(source, 'profiles')}: no {profile!r} profile (has: {have})")
        prof = profiles[profile]
        where = f"profiles.{profile}"
        _checked(SweepFile, prof, where, source)
        for key in ("profiles", "name"):
            if key in prof:
                allowed = [k for k in TOP_KEYS if k not in ("profiles", "name")]
                raise SweepError(_where(source, str(_unknown(key, allowed, where))))
        data = deep_merge(data, prof)
        top = _checked(SweepFile, data, "", source)
    raw = {k: v for k, v in data.items() if k != "profiles"}

    name = top.name or (source.stem if source is not None else None)
    if not name:
        raise SweepError(f"{_where(source, 'name')}: a sweep needs a name")
    if top.base is None:
        raise SweepError(f"{_where(source, 'base')}: missing; give a zoo model name, "
                         "a config file or an inline config")
    base = _resolve_base(top.base, source)
    sets = dict(top.set or {})
    sets.update(overrides or {})
    for key, value in sets.items():
        set_dotted(base, str(key), value)

    seeds = top.seeds if top.seeds is not None else [base.get("seed", 0)]
    seeds = [seeds] if isinstance(seeds, int) else seeds
    if not seeds:
        raise SweepError(f"{_where(source, 'seeds')}: expected a non-empty list of integers")
    for i, s in enumerate(seeds):
        _at_least(s, 0, _where(source, f"seeds[{i}]"))
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"{_where(source, 'seeds')}: seeds repeat: {seeds}")

    grid = _parse_grid(top.grid, _where(source, "grid")) if top.grid else {}
    variants = _parse_list(top.list, _where(source, "list")) if top.list else []
    random = _parse_random(top.random, _where(source, "random")) if top.random else None
    search = (_parse_search(top.search, _where(source, "search"), source)
              if top.search else None)
    if random is not None and search is not None:
        raise SweepError(f"{source or 'sweep'}: give random or search, not both")
    if (random is not None or search is not None) and (grid or variants):
        raise SweepError(
            f"{source or 'sweep'}: grid/list cannot be combined with random or search; "
            "put fixed settings in base or set"
        )
    if search is not None and len(seeds) > 1:
        raise SweepError(
            f"{_where(source, 'seeds')}: an Optuna search runs one seed per trial; "
            "give a single seed (or repeat the best trials in a grid sweep afterwards)"
        )
    for key in grid:
        if any(key in v.overrides for v in variants):
            raise SweepError(f"{_where(source, 'grid')}.{key}: also set by a list variant")

    accuracy = "accuracy" in (base.get("metrics") or ["accuracy"])
    metric = top.metric or (search.metric if search is not None else None)
    metric = metric or ("val_accuracy" if accuracy else "val_loss")
    trainer = top.trainer
    if ":" not in trainer:
        raise SweepError(f"{_where(source, 'trainer')}: expected 'package.module:function'")

    spec = SweepSpec(
        name=name,
        base=base,
        seeds=seeds,
        metric=metric,
        grid=grid,
        variants=variants,
        random=random,
        search=search,
        description=top.description,
        report=top.report,
        profile=profile,
        profiles=tuple(profiles),
        trainer=trainer,
        source=source,
        raw=raw,
    )
    if validate:
        trials = expand(spec)
        if search is not None:  # check the base and one sample of the search space
            rng = np.random.default_rng(search.seed)
            sample = {k: d.sample(rng) for k, d in search.params.items()}
            trial_config(spec, sample, seeds[0], "search sample")
        elif not trials:
            raise SweepError(f"{source or 'sweep'}: expands to no trials")
    return spec


def load_sweep(
    path: str | os.PathLike[str],
    *,
    profile: str | None = None,
    overrides: dict[str, Any] | None = None,
    validate: bool = True,
) -> SweepSpec:
    """Read and check a sweep file (``yaml.safe_load``, never arbitrary objects)."""
    from deepgrad.lab import config as cfg

    p = Path(path)
    try:
        data = cfg.load_yaml(p)
    except cfg.ConfigError as exc:
        raise SweepError(str(exc).replace("config file", "sweep file")) from None
    return parse_sweep(data, source=p, profile=profile, overrides=overrides, validate=validate)


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
