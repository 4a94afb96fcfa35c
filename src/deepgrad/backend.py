"""The one array module (``xp``), default dtypes and the global random generator.

All array code in deepgrad goes through here so that a CuPy backend can slot
in later without touching the ops (DeZero's ``get_array_module`` is the model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

xp = np
"""The array module every op uses. NumPy today; CuPy on a GPU."""

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default_float = float32
_generator: np.random.Generator = np.random.default_rng()
_seed: int | None = None


def get_array_module(array: Any) -> Any:
    """Return the array module (numpy or cupy) that owns ``array``."""
    module = type(array).__module__
    if module.startswith("cupy"):  # pragma: no cover - no GPU in CI
        import cupy

        return cupy
    return np


def default_float_dtype() -> np.dtype:
    """The float dtype used for float input and random factories (float32)."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Switch the default float dtype (float32 or float64), as ``torch.set_default_dtype``."""
    global _default_float
    dt = np.dtype(dtype)
    if dt not in (float32, float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dt}")
    _default_float = dt


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the one global generator used by init, dropout, shuffling and augmentation."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int | None:
    """The seed last given to ``manual_seed`` (None if never seeded)."""
    return _seed


def get_generator() -> np.random.Generator:
    """The global generator. Read it at call time; ``manual_seed`` replaces it."""
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The global generator's state as a JSON-able dict (for exact resume)."""
    return dict(_generator.bit_generator.state)


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the global generator's state from ``get_rng_state``."""
    _generator.bit_generator.state = state


def to_numpy(array: Any) -> np.ndarray:
    """Bring an array to host memory as a NumPy array."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "get"):  # pragma: no cover - cupy
        return array.get()
    return np.asarray(array)
