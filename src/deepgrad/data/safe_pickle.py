"""A restricted unpickler for the CIFAR python batches: data, never code.

A pickle can name any importable callable and have it called while
loading (``os.system`` included). This unpickler admits only the few
NumPy functions that rebuild an array; everything else is refused with an
error naming the file and the global it asked for. After loading, the
result is walked and must consist of dicts, lists, str, bytes, ints and
NumPy arrays of plain (non-object) dtype.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CorruptFileError, UnsafePickleError

ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # how protocol 2 spells bytes when written by Python 3
    }
)
ALLOWED_TYPES = "dicts, lists, bytes, str, ints and NumPy arrays"


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only ``ALLOWED_GLOBALS``."""

    def __init__(self, file: Any, source: str, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"{self.source}: refusing to load global {module}.{name}: this file may only hold "
            f"{ALLOWED_TYPES}. It is not a CIFAR batch, or it was tampered with."
        )


def _check(obj: Any, source: str, where: str = "top level") -> None:
    """Walk the loaded object; anything but the admitted types is an error."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            _check(key, source, f"{where} key")
            _check(value, source, f"{where}[{key!r}]")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check(value, source, f"{where}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise UnsafePickleError(f"{source}: {where} is an object array; refused")
    elif not isinstance(obj, (str, bytes, int, np.integer)) or isinstance(obj, bool):
        raise UnsafePickleError(
            f"{source}: {where} is a {type(obj).__name__}; expected only {ALLOWED_TYPES}"
        )


def safe_load(path: str | os.PathLike[str], encoding: str = "latin1") -> Any:
    """Load a pickle file with ``RestrictedUnpickler`` (latin1 reads Python 2 pickles)."""
    path = Path(path)
    data = path.read_bytes()
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), str(path), encoding=encoding).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # any parse failure: truncated, not a pickle, ...
        raise CorruptFileError(f"{path}: not a readable pickle ({exc})") from exc
    _check(obj, str(path))
    return obj
