"""Reading YAML safely: plain data only, and numbers as YAML 1.2 reads them.

One reader for every YAML file of the lab (configs, sweep files, run folders'
config.yaml), with errors that name the file, the line and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .validator import ConfigError

__all__ = ["yaml_loader", "parse_yaml", "load_yaml"]


def yaml_loader() -> Any:
    """``yaml.SafeLoader`` that reads numbers as YAML 1.2 does: ``1e-3`` is a float.

    PyYAML implements YAML 1.1, whose float pattern needs a dot and a signed
    exponent, so ``lr: 1e-3`` was the *string* "1e-3" (and a confusing type
    error later). Only plain scalars change; quoted ones stay strings.
    """
    global _LOADER
    if _LOADER is None:
        import re

        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_implicit_resolver(
            "tag:yaml.org,2002:float",
            re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
            list("-+0123456789"))
        _LOADER = Loader
    return _LOADER


_LOADER: Any = None


def parse_yaml(text: str) -> Any:
    """YAML text to plain data: safe (never arbitrary objects), YAML 1.2 numbers."""
    import yaml

    return yaml.load(text, Loader=yaml_loader())  # noqa: S506 - a SafeLoader subclass


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML mapping safely (never arbitrary objects; ``1e-3`` is a number)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a text file (binary or damaged)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{p}: invalid YAML{at}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping at top level, got {type(data).__name__}")
    return data
