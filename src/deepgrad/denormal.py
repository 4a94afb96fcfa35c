"""Subnormal floats, flushed to zero where training makes them: in the optimizer's step.

Weight decay shrinks unused weights geometrically until they are subnormal (below
``np.finfo(dtype).tiny``, 1.2e-38 in float32). x86 CPUs multiply those through a slow
microcode path unless flush-to-zero is set, which NumPy cannot set: a (4096, 1152) @
(1152, 256) GEMM with the CIFAR CNN's third-layer weights after 14 epochs of L2 1e-3
(114K of its 295K weights subnormal) took 3,479 ms against 20 ms flushed. So after each
update the optimizer looks at a fixed sample of every parameter and of its state
arrays and, when the sample holds a subnormal value, sets all of that array's subnormal
values to zero. Each value moves by less than ``tiny``; the check is a function of the
values alone, so a resumed run flushes exactly as the uninterrupted one did.

``deepgrad.set_flush_denormal(False)`` keeps subnormals, as torch does by default;
torch's ``torch.set_flush_denormal(True)`` sets the CPU's flush-to-zero mode instead.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

ENABLED = True
SAMPLE_FRACTION = 64
"""One value in 64 is checked, at positions drawn once per array size (fixed, so the
check stays a function of the values): a strided sample would miss a column or channel
whose period divides the stride. A full flush follows a hit."""


@functools.lru_cache(maxsize=256)
def _sample_positions(size: int) -> Any:
    count = size // SAMPLE_FRACTION
    if count < 64:
        return slice(None)                       # small arrays: look at every value
    return np.sort(np.random.default_rng(size).choice(size, count, replace=False))


def set_flush_denormal(mode: bool) -> bool:
    """torch's ``set_flush_denormal``: whether optimizer steps flush subnormal values of
    parameters and optimizer state to zero (on by default here). Returns True: the flush
    is done in NumPy, so every machine supports it."""
    global ENABLED
    ENABLED = bool(mode)
    return True


def has_subnormal_sample(a: Any) -> bool:
    """Whether a strided sample of float array ``a`` holds a nonzero value below tiny."""
    sample = np.abs(a.reshape(-1)[_sample_positions(a.size)])
    return bool(((sample < np.finfo(a.dtype).tiny) & (sample > 0)).any())


def flush_(a: Any) -> None:
    """Set every subnormal value of float array ``a`` to zero, in place."""
    np.copyto(a, 0, where=np.abs(a) < np.finfo(a.dtype).tiny)


def flush_if_needed_(a: Any) -> None:
    """Flush ``a`` in place when its sample shows subnormal values (float arrays only)."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size and a.flags.writeable \
            and has_subnormal_sample(a):
        flush_(a)
