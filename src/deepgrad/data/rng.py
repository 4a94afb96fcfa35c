"""Which random generator the random transforms draw from.

Outside a DataLoader they draw from the library's global generator
(``backend.get_generator()``, read at call time so ``manual_seed`` takes
effect). Inside a DataLoader each batch gets its own generator derived
from the epoch seed and the batch number, installed thread-locally: the
same seed gives the same augmented batches whatever the number of
prefetch threads, and a run resumed mid-epoch redraws nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from deepgrad import backend

_local = threading.local()


def current_generator() -> np.random.Generator:
    """The generator random transforms use now."""
    rng = getattr(_local, "rng", None)
    return rng if rng is not None else backend.get_generator()


@contextmanager
def use_generator(rng: np.random.Generator | None) -> Iterator[None]:
    """Make ``rng`` this thread's generator for random transforms inside the block."""
    previous = getattr(_local, "rng", None)
    _local.rng = rng
    try:
        yield
    finally:
        _local.rng = previous


def batch_generator(epoch_seed: int, batch_index: int) -> np.random.Generator:
    """The generator of one batch: a pure function of (epoch seed, batch number)."""
    return np.random.default_rng([epoch_seed, 0, batch_index])


def order_generator(epoch_seed: int) -> np.random.Generator:
    """The generator that shuffles one epoch."""
    return np.random.default_rng([epoch_seed, 1])
