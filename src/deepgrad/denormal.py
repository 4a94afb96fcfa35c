"""Near-subnormal floats, flushed to zero where training makes them: in the optimizer's step.

Weight decay shrinks unused weights geometrically until they are subnormal (below
``np.finfo(dtype).tiny``, 1.2e-38 in float32). x86 CPUs multiply those through a slow
microcode path unless flush-to-zero is set, which NumPy cannot set: a (4096, 1152) @
(1152, 256) GEMM with the CIFAR CNN's third-layer weights after 14 epochs of L2 1e-3
(114K of its 295K weights subnormal) took 3,479 ms against 20 ms flushed. Flushing only
the subnormal weights is not enough: weights of 1e-30 times activations of 1e-9 make
subnormal *products*, as slow (a run that flushed below ``tiny`` still spent half its
time in one GEMM by epoch 4). So values below ``floor(dtype) = tiny * 2**32`` (5e-29 in float32)
are flushed: their product with anything above 2**-32 (2.3e-10) stays normal.

After each update the optimizer looks at a strided sample of every parameter and of its
state arrays and, when the sample holds a nonzero value below the floor, sets all of that
array's such values to zero. Each value moves by less than the floor (Adam's
``exp_avg_sq`` below it has a square root under 1e-14, far below its eps); the check is a
function of the values alone, so a resumed run flushes exactly as the uninterrupted one.

``deepgrad.set_flush_denormal(False)`` keeps subnormals, as torch does by default;
torch's ``torch.set_flush_denormal(True)`` sets the CPU's flush-to-zero mode instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ENABLED = True
SAMPLE_STRIDE = 251
"""Every 251st value is checked, arrays under ``FULL_CHECK_BELOW`` values in full. The
stride is a prime, so any row length that is not a multiple of it puts every column in
the sample, and any run of 251 subnormal values (a dead filter or unit) is hit. A
strided read streams (0.04 ms for 4.6M floats; a sample at random positions, 0.39 ms,
made the Adam models 4-5% slower). A full flush follows a hit."""
FULL_CHECK_BELOW = 64 * SAMPLE_STRIDE
FLOOR_FACTOR = 2.0**32


def floor(dtype: Any) -> float:
    """The magnitude below which values are flushed: ``tiny * 2**32`` of ``dtype``."""
    return float(np.finfo(dtype).tiny) * FLOOR_FACTOR


def set_flush_denormal(mode: bool) -> bool:
    """torch's ``set_flush_denormal``: whether optimizer steps flush values of parameters
    and optimizer state below ``floor`` to zero (on by default here). Returns True: the flush
    is done in NumPy, so every machine supports it."""
    global ENABLED
    ENABLED = bool(mode)
    return True


def has_subnormal_sample(a: Any) -> bool:
    """Whether a strided sample of float array ``a`` holds a nonzero value below the
    floor."""
    flat = a.reshape(-1)
    sample = np.abs(flat if a.size < FULL_CHECK_BELOW else flat[::SAMPLE_STRIDE])
    return bool(((sample < floor(a.dtype)) & (sample > 0)).any())


def flush_(a: Any) -> None:
    """Set every value of float array ``a`` below the floor to zero, in place."""
    np.copyto(a, 0, where=np.abs(a) < floor(a.dtype))


def flush_if_needed_(a: Any) -> None:
    """Flush ``a`` in place when its sample shows values below the floor (float arrays
    only)."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size and a.flags.writeable \
            and has_subnormal_sample(a):
        flush_(a)
