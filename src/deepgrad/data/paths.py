"""Where data and caches live: one rule, so every dataset looks in the same places.

Data: the ``root`` argument, else ``$DEEPGRAD_DATA``, else
``~/.cache/deepgrad/datasets``. Caches of decoded arrays: next to the data
when that folder is writable, else ``$DEEPGRAD_CACHE`` (default
``~/.cache/deepgrad``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import DatasetNotFoundError

ENV_DATA = "DEEPGRAD_DATA"
ENV_CACHE = "DEEPGRAD_CACHE"
DEFAULT_DATA = Path("~/.cache/deepgrad/datasets")
DEFAULT_CACHE = Path("~/.cache/deepgrad")


def data_roots(root: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """The folders to search, best first, each with where it came from (for messages)."""
    if root is not None:
        return [(Path(root).expanduser(), "root argument")]
    roots: list[tuple[Path, str]] = []
    env = os.environ.get(ENV_DATA)
    if env:
        roots.append((Path(env).expanduser(), f"${ENV_DATA}"))
    roots.append((DEFAULT_DATA.expanduser(), "default"))
    return roots


def download_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder a download writes into: the first of ``data_roots``."""
    return data_roots(root)[0][0]


def cache_dir() -> Path:
    """The writable cache folder for decoded arrays (``$DEEPGRAD_CACHE`` or ~/.cache/deepgrad)."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else DEFAULT_CACHE.expanduser()


def is_writable(folder: Path) -> bool:
    """True when files can be created in ``folder`` (or in the nearest existing parent)."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    # the mode bits too: root passes os.access even on folders marked read-only
    return (
        probe.is_dir()
        and bool(probe.stat().st_mode & 0o222)
        and os.access(probe, os.W_OK | os.X_OK)
    )


def not_found(name: str, looked: Iterable[tuple[Path, str]], what: str) -> DatasetNotFoundError:
    """The error for a missing dataset: every place looked at, and the two remedies."""
    lines = [f"{name}: {what} not found. Looked in:"]
    lines += [f"  - {path}  ({origin})" for path, origin in looked]
    lines += [
        "Remedies:",
        f"  1. pass download=True to fetch it from the canonical mirrors into {download_root()}"
        " (or into root=...), or",
        f"  2. point ${ENV_DATA} (or root=...) at a folder that already holds it.",
    ]
    return DatasetNotFoundError("\n".join(lines))
