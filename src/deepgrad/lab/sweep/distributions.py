"""The random and search parameters of a sweep file: ``{log_uniform: [1e-4, 1e-1]}`` and friends.

``choice`` (or a bare list), ``uniform``, ``log_uniform`` and ``int`` (inclusive
bounds, optional ``step`` and ``log``); each samples with a seeded generator
(random sweeps) or becomes an ``optuna.distributions`` object (searches).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .schema import SweepError
from .schema import unknown as _unknown

__all__ = ["DIST_KINDS", "Distribution", "parse_distribution", "parse_params"]

DIST_KINDS = ("choice", "uniform", "log_uniform", "int")


@dataclass(frozen=True)
class Distribution:
    """One random/search parameter: ``choice``, ``uniform``, ``log_uniform`` or ``int``.

    ``int`` bounds are inclusive (``{int: [16, 256]}``), with an optional
    ``step`` and ``log``; ``log_uniform`` samples ``exp(U(log lo, log hi))``.
    """

    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()
    step: int = 1
    log: bool = False

    def sample(self, rng: np.random.Generator) -> Any:
        """One value, drawn with ``rng`` (plain Python types, so configs stay YAML)."""
        if self.kind == "choice":
            return copy.deepcopy(self.choices[int(rng.integers(len(self.choices)))])
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "log_uniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        lo, hi = int(self.low), int(self.high)
        if self.log:
            value = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        else:
            value = int(rng.integers(0, (hi - lo) // self.step + 1)) * self.step + lo
        return max(lo, min(hi, value))

    def to_optuna(self) -> Any:
        """The matching ``optuna.distributions`` object."""
        from optuna import distributions as d

        if self.kind == "choice":
            return d.CategoricalDistribution(list(self.choices))
        if self.kind in ("uniform", "log_uniform"):
            return d.FloatDistribution(self.low, self.high, log=self.kind == "log_uniform")
        return d.IntDistribution(int(self.low), int(self.high), step=self.step, log=self.log)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def parse_distribution(value: Any, where: str) -> Distribution:
    if isinstance(value, list):  # a bare list is shorthand for a choice
        value = {"choice": value}
    if not isinstance(value, dict):
        raise SweepError(
            f"{where}: expected a distribution such as {{choice: [a, b]}}, {{uniform: [0, 1]}}, "
            f"{{log_uniform: [1e-4, 1e-1]}} or {{int: [16, 256]}}, got {value!r}"
        )
    kinds = [k for k in value if k in DIST_KINDS]
    extra = [k for k in value if k not in DIST_KINDS and k not in ("step", "log")]
    if len(kinds) != 1 or extra:
        bad = extra[0] if extra else None
        if bad is not None:
            raise _unknown(bad, DIST_KINDS + ("step", "log"), where)
        raise SweepError(f"{where}: give exactly one of {', '.join(DIST_KINDS)}, got {value!r}")
    kind = kinds[0]
    arg = value[kind]
    if kind == "choice":
        if not isinstance(arg, list) or not arg:
            raise SweepError(f"{where}.choice: expected a non-empty list, got {arg!r}")
        return Distribution("choice", choices=tuple(arg))
    if not (isinstance(arg, list) and len(arg) == 2 and all(_is_number(a) for a in arg)):
        raise SweepError(f"{where}.{kind}: expected [low, high] numbers, got {arg!r}")
    low, high = float(arg[0]), float(arg[1])
    if not low < high:
        raise SweepError(f"{where}.{kind}: low must be below high, got [{arg[0]}, {arg[1]}]")
    if kind == "log_uniform" and low <= 0:
        raise SweepError(f"{where}.log_uniform: bounds must be > 0, got [{arg[0]}, {arg[1]}]")
    if kind == "int":
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in arg):
            raise SweepError(f"{where}.int: bounds must be integers, got {arg!r}")
        step = value.get("step", 1)
        log = value.get("log", False)
        if not isinstance(step, int) or step < 1:
            raise SweepError(f"{where}.step: expected an integer >= 1, got {step!r}")
        if not isinstance(log, bool):
            raise SweepError(f"{where}.log: expected true/false, got {log!r}")
        if log and (low < 1 or step != 1):
            raise SweepError(f"{where}: a log int needs low >= 1 and step 1")
        return Distribution("int", low, high, step=step, log=log)
    if "step" in value or "log" in value:
        raise SweepError(f"{where}: step/log apply to int distributions only")
    return Distribution(kind, low, high)


def parse_params(value: Any, where: str) -> dict[str, Distribution]:
    if not isinstance(value, dict) or not value:
        raise SweepError(f"{where}: expected a mapping of dotted keys to distributions")
    return {str(k): parse_distribution(v, f"{where}.{k}") for k, v in value.items()}
