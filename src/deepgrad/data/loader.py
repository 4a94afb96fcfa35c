"""DataLoader: deterministic, resumable batches, with background prefetch.

Order. Each epoch starts by drawing one 63-bit *epoch seed* from the
loader's generator (the library's global one unless given). The shuffle
order and every random transform of batch k are pure functions of
(epoch seed, k), so the same seed gives the same batches whatever
``num_workers`` is, and ``state_dict()`` (epoch, batches yielded, epoch
seed) is all a run needs to resume mid-epoch and see exactly the
remaining batches.

Speed. For datasets with ``get_batch`` (all array-backed ones) a batch is
one fancy index plus one call of the batched transforms. With
``num_workers > 0`` that work runs in threads, ``prefetch`` batches ahead
per thread; NumPy and Pillow release the GIL for the heavy parts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from deepgrad import backend

from .collate import to_tensors
from .dataset import stack_samples
from .rng import batch_generator, order_generator, use_generator


class DataLoader:
    """Iterate over a dataset in batches: ``for x, y in DataLoader(ds, 64, shuffle=True)``.

    ``collate_fn`` receives the stacked batch (a tuple of arrays) and
    defaults to wrapping each array in a ``Tensor``; pass
    ``collate_fn=as_arrays`` for raw arrays. ``generator`` may be a
    ``numpy.random.Generator`` or an int seed; None reads the library's
    global generator at the start of each epoch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | int | None = None,
        collate_fn: Callable[[Any], Any] | None = None,
        num_workers: int = 0,
        prefetch: int = 2,
    ) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        if prefetch < 1:
            raise ValueError(f"DataLoader: prefetch must be >= 1, got {prefetch}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = (
            np.random.default_rng(generator)
            if generator is not None and not isinstance(generator, np.random.Generator)
            else generator
        )
        self.collate_fn = collate_fn if collate_fn is not None else to_tensors
        self.num_workers = num_workers
        self.prefetch = prefetch
        self.epoch = -1  # index of the current epoch; -1 before the first
        self._position = 0  # batches yielded in the current epoch
        self._epoch_seed: int | None = None
        self._resume = False  # set by load_state_dict: the next iter continues the epoch

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    # ------------------------------------------------------------------ order
    def _rng(self) -> np.random.Generator:
        return self.generator if self.generator is not None else backend.get_generator()

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        assert self._epoch_seed is not None
        if self.shuffle:
            return order_generator(self._epoch_seed).permutation(n)
        return np.arange(n)

    def _batch(self, order: np.ndarray, k: int) -> Any:
        """Batch ``k`` of this epoch: a pure function of (epoch seed, k)."""
        indices = order[k * self.batch_size : (k + 1) * self.batch_size]
        assert self._epoch_seed is not None
        with use_generator(batch_generator(self._epoch_seed, k)):
            if hasattr(self.dataset, "get_batch"):
                batch = self.dataset.get_batch(indices)
            else:
                batch = stack_samples([self.dataset[int(i)] for i in indices])
        return self.collate_fn(batch)

    # -------------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[Any]:
        if not (self._resume and self._epoch_seed is not None and self._position < len(self)):
            self.epoch += 1
            self._position = 0
            self._epoch_seed = int(self._rng().integers(0, 2**63 - 1))
        self._resume = False
        order = self._order()
        start, stop = self._position, len(self)
        if self.num_workers == 0:
            return self._serial(order, start, stop)
        return self._threaded(order, start, stop)

    def _serial(self, order: np.ndarray, start: int, stop: int) -> Iterator[Any]:
        for k in range(start, stop):
            batch = self._batch(order, k)
            self._position = k + 1
            yield batch

    def _threaded(self, order: np.ndarray, start: int, stop: int) -> Iterator[Any]:
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="deepgrad-loader")
        pending: deque[Future[Any]] = deque()
        ahead = self.num_workers * self.prefetch
        try:
            next_k = start
            for k in range(start, stop):
                while next_k < stop and len(pending) < ahead:
                    pending.append(pool.submit(self._batch, order, next_k))
                    next_k += 1
                batch = pending.popleft().result()
                self._position = k + 1
                yield batch
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: JSON-able, enough to resume mid-epoch exactly.

        Holds the loader's own generator state when it was given one; the
        library's global generator is the trainer's to save
        (``backend.get_rng_state()``).
        """
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "position": self._position,
            "epoch_seed": self._epoch_seed,
            "num_batches": len(self),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
        }
        if self.generator is not None:
            state["generator"] = self.generator.bit_generator.state
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``; the next ``iter()`` yields the rest of that epoch."""
        current = {"batch_size": self.batch_size, "num_batches": len(self), "shuffle": self.shuffle}
        for key, mine in current.items():
            if key in state and state[key] != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: {key} was {state[key]} when saved but is "
                    f"{mine} now; the remaining batches would differ"
                )
        self.epoch = int(state["epoch"])
        self._position = int(state["position"])
        seed = state["epoch_seed"]
        self._epoch_seed = None if seed is None else int(seed)
        if "generator" in state:
            if self.generator is None:
                self.generator = np.random.default_rng()
            self.generator.bit_generator.state = state["generator"]
        self._resume = True

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, num_workers={self.num_workers}"
            f", batches={len(self)})"
        )
