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
What a parsed sweep is and how it expands into trials is ``trials``
(re-exported here).
"""

from __future__ import annotations

import copy
import difflib
import os
from pathlib import Path
from typing import Any

import numpy as np

from .distributions import Distribution, parse_params
from .schema import (
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
from .trials import (  # noqa: F401 - the sweep's pieces, re-exported where they were
    RandomSpec,
    SearchSpec,
    SweepSpec,
    Trial,
    Variant,
    _label,
    config_hash,
    deep_merge,
    expand,
    make_trial_id,
    metric_direction,
    set_dotted,
    short_value,
    slug,
    trial_config,
    variant_name,
)


def _where(source: Path | None, key: str) -> str:
    return f"{source}: {key}" if source is not None else key


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
