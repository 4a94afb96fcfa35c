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

Samplers (torch's ``sampler=``/``batch_sampler=``). The sampler gives the
index order and the loader still fetches each batch of indices with one
``get_batch``. Indices are drawn on the loader's thread in order, and a
sampler with ``generator=None`` draws from a generator derived from the
epoch seed, so resume stays exact: ``load_state_dict`` replays the epoch's
index batches up to the saved position without loading them. That holds
for deepgrad's samplers (a sampler's own ``generator`` is saved as it stood
when the epoch began) and for any deterministic sampler; a custom sampler
with hidden randomness of its own resumes with a different order for the
rest of that epoch. An ``IterableDataset`` is read the same way (replayed
to the position, which reads the skipped items again).

torch's process options have no processes to act on here: ``pin_memory``,
``persistent_workers``, ``worker_init_fn``, ``multiprocessing_context``
and ``in_order`` are checked as torch checks them, then ignored (batches
always come in order; threads need no per-worker seeding because each
batch has its own generator). ``prefetch_factor`` sets ``prefetch``, and
``timeout`` bounds the wait for a batch from the threads.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np

from deepgrad import backend

from .collate import default_collate, default_convert, to_tensors
from .dataset import IterableDataset, stack_samples
from .rng import batch_generator, order_generator, use_generator
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_END = object()


def get_worker_info() -> None:
    """torch's ``get_worker_info``: None, as in torch's main process. deepgrad's workers are
    threads of this process, so code that shards a stream per worker reads it whole, once."""
    return None


def _index_array(batch: Any) -> np.ndarray | None:
    """A batch of indices as an int64 array for ``get_batch``; None for other keys."""
    if isinstance(batch, np.ndarray) and batch.dtype.kind in "iu":
        return batch
    try:
        arr = np.asarray(batch)
    except (TypeError, ValueError):
        return None
    if arr.ndim == 1 and (arr.dtype.kind in "iu" or arr.size == 0):
        return arr.astype(np.int64, copy=False)
    return None


def _key(index: Any) -> Any:
    """A sampler's index as a dataset key: ints (and 0-d int tensors) as int, others as they are."""
    if isinstance(index, bool) or not hasattr(index, "__index__"):
        return index
    return operator.index(index)


def _check_process_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                           persistent_workers: bool, multiprocessing_context: Any) -> None:
    """torch's checks of the multiprocessing options (which are no-ops here)."""
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is None:
        return
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(multiprocessing_context, str):
        methods = multiprocessing.get_all_start_methods()
        if multiprocessing_context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={multiprocessing_context!r}")
    elif not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}")


class DataLoader:
    """Iterate over a dataset in batches: ``for x, y in DataLoader(ds, 64, shuffle=True)``.

    The arguments are torch's, in torch's order. ``collate_fn`` receives the
    stacked batch (a tuple of arrays) and defaults to wrapping each array in
    a ``Tensor`` (``default_collate`` means the same); pass
    ``collate_fn=as_arrays`` for raw arrays. ``generator`` may be a
    ``numpy.random.Generator`` (``deepgrad.Generator``) or an int seed; None
    reads the library's global generator at the start of each epoch.
    ``batch_size=None`` turns batching off: one ``dataset[i]`` per step.
    ``prefetch`` (deepgrad's) is how many batches each thread works ahead.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler[Any] | Iterable[Any] | None = None,
        batch_sampler: Sampler[Any] | Iterable[Any] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: np.random.Generator | int | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        prefetch: int = 2,
    ) -> None:
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers} "
                             "(use num_workers=0 to load in this thread)")
        _check_process_options(num_workers, timeout, prefetch_factor, persistent_workers,
                               multiprocessing_context)
        if prefetch_factor is not None:
            prefetch = max(1, prefetch_factor)
        if prefetch < 1:
            raise ValueError(f"DataLoader: prefetch must be >= 1, got {prefetch}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
        elif (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
              or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = (
            np.random.default_rng(generator)
            if generator is not None and not isinstance(generator, np.random.Generator)
            else generator
        )
        # The order: a user's sampler/batch_sampler is iterated; without one, the loader's own
        # seeded order is used and these attributes only describe it (as torch's do).
        self._user_batch_sampler = batch_sampler is not None
        self._custom = sampler is not None or batch_sampler is not None
        if sampler is None and not self._iterable:
            # (torch refuses shuffle=True on an empty dataset here; deepgrad always allowed it)
            sampler = (RandomSampler(dataset, generator=self.generator)
                       if shuffle and len(dataset) > 0 else SequentialSampler(dataset))
        if batch_sampler is None and self.batch_size is not None and not self._iterable:
            assert sampler is not None
            batch_sampler = BatchSampler(sampler, self.batch_size, bool(drop_last))
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (
            self._iterable and self.batch_size is not None)
        if collate_fn is None or collate_fn is default_collate or collate_fn is default_convert:
            collate_fn = to_tensors  # the stacked-batch form of torch's defaults
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.prefetch = prefetch
        self.prefetch_factor = (prefetch if num_workers > 0 and prefetch_factor is None
                                else prefetch_factor)
        self.pin_memory = pin_memory  # no-op: batches are host arrays already
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn  # no-op: no worker processes to initialise
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.epoch = -1  # index of the current epoch; -1 before the first
        self._position = 0  # batches yielded in the current epoch
        self._epoch_seed: int | None = None
        self._done = False  # the current epoch ran to its end (sampler and stream modes)
        self._sampler_states: dict[str, Any] = {}  # samplers' generators at the epoch's start
        self._resume = False  # set by load_state_dict: the next iter continues the epoch

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self._custom:
            return len(self._index_sampler)  # type: ignore[arg-type]
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def _index_sampler(self) -> Any:
        """What yields one step's indices (torch's name): the batch sampler, else the sampler."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _length_or_none(self) -> int | None:
        try:
            return len(self)
        except TypeError:  # a sampler or stream without len
            return None

    # ------------------------------------------------------------------ order
    def _rng(self) -> np.random.Generator:
        return self.generator if self.generator is not None else backend.get_generator()

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        assert self._epoch_seed is not None
        if self.shuffle:
            return order_generator(self._epoch_seed).permutation(n)
        return np.arange(n)

    def _own_jobs(self, start: int, stop: int) -> Iterator[tuple[int, Any]]:
        """The loader's own order: (k, indices of batch k) for k in [start, stop)."""
        order = self._order()
        if self.batch_size is None:
            return ((k, order[k]) for k in range(start, stop))
        bs = self.batch_size
        return ((k, order[k * bs : (k + 1) * bs]) for k in range(start, stop))

    def _sampler_jobs(self, start: int) -> Iterator[tuple[int, Any]]:
        """(k, indices of batch k) from the user's sampler, from batch ``start`` on.

        The sampler runs with the epoch's order generator installed, one step at a time
        (never across a yield, so the training loop's own draws never see it).
        """
        assert self._epoch_seed is not None
        rng = order_generator(self._epoch_seed)
        with use_generator(rng):
            it = iter(self._index_sampler)
        for k in itertools.count():
            with use_generator(rng):
                indices = next(it, _END)
            if indices is _END:
                return
            if k >= start:
                yield k, indices

    def _stream_jobs(self, start: int) -> Iterator[tuple[int, Any]]:
        """(k, batch k collated) read from an IterableDataset, from batch ``start`` on."""
        assert self._epoch_seed is not None
        with use_generator(order_generator(self._epoch_seed)):
            it = iter(self.dataset)
        for k in itertools.count():
            with use_generator(batch_generator(self._epoch_seed, k)):
                if self.batch_size is None:
                    item = next(it, _END)
                    if item is _END:
                        return
                    batch = item if k < start else self.collate_fn(item)
                else:
                    items = list(itertools.islice(it, self.batch_size))
                    if not items or (self.drop_last and len(items) < self.batch_size):
                        return
                    batch = None if k < start else self.collate_fn(stack_samples(items))
            if k >= start:
                yield k, batch

    def _fetch(self, indices: Any, k: int) -> Any:
        """Batch ``k`` of this epoch: a pure function of (indices, epoch seed, k)."""
        assert self._epoch_seed is not None
        with use_generator(batch_generator(self._epoch_seed, k)):
            if not self._auto_collation:
                return self.collate_fn(self.dataset[_key(indices)])
            array = _index_array(indices)
            if array is not None and hasattr(self.dataset, "get_batch"):
                batch = self.dataset.get_batch(array)
            else:
                keys = array.tolist() if array is not None else [_key(i) for i in indices]
                batch = stack_samples([self.dataset[i] for i in keys])
        return self.collate_fn(batch)

    # ------------------------------------------------------- sampler generators
    def _sampler_generators(self) -> dict[str, np.random.Generator]:
        """The user's samplers' own generators, by where they sit (for exact resume)."""
        if not self._custom:
            return {}
        found: dict[str, np.random.Generator] = {}
        places = {"sampler": self.sampler, "batch_sampler": self.batch_sampler,
                  "batch_sampler.sampler": getattr(self.batch_sampler, "sampler", None)}
        for name, obj in places.items():
            g = getattr(obj, "generator", None)
            if isinstance(g, np.random.Generator) and g is not backend.get_generator():
                found[name] = g
        return found

    # -------------------------------------------------------------- iteration
    def _epoch_running(self) -> bool:
        if self._epoch_seed is None:
            return False
        if self._custom or self._iterable:
            return not self._done
        return self._position < len(self)

    def __iter__(self) -> Iterator[Any]:
        if self._resume and self._epoch_running():
            for name, g in self._sampler_generators().items():  # rewind to the epoch's start
                if name in self._sampler_states:
                    g.bit_generator.state = self._sampler_states[name]
        else:
            self.epoch += 1
            self._position = 0
            self._done = False
            self._epoch_seed = int(self._rng().integers(0, 2**63 - 1))
            self._sampler_states = {name: g.bit_generator.state
                                    for name, g in self._sampler_generators().items()}
        self._resume = False
        start = self._position
        if self._iterable:
            return self._serial(self._stream_jobs(start), None)
        jobs = (self._sampler_jobs(start) if self._custom
                else self._own_jobs(start, len(self)))
        if self.num_workers == 0:
            return self._serial(jobs, self._fetch)
        return self._threaded(jobs)

    def _serial(self, jobs: Iterator[tuple[int, Any]],
                fetch: Callable[[Any, int], Any] | None) -> Iterator[Any]:
        for k, payload in jobs:
            batch = payload if fetch is None else fetch(payload, k)
            self._position = k + 1
            yield batch
        self._done = True

    def _threaded(self, jobs: Iterator[tuple[int, Any]]) -> Iterator[Any]:
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="deepgrad-loader")
        pending: deque[tuple[int, Future[Any]]] = deque()
        ahead = self.num_workers * self.prefetch
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < ahead:
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                    else:
                        pending.append((job[0], pool.submit(self._fetch, job[1], job[0])))
                if not pending:
                    break
                k, future = pending.popleft()
                try:
                    batch = future.result(timeout=self.timeout if self.timeout > 0 else None)
                except FutureTimeout:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds "
                                       "waiting for a batch") from None
                self._position = k + 1
                yield batch
            self._done = True
        finally:
            for _, future in pending:
                future.cancel()
            pool.shutdown(wait=True)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: JSON-able, enough to resume mid-epoch exactly.

        Holds the loader's own generator state when it was given one; the
        library's global generator is the trainer's to save
        (``backend.get_rng_state()``). With a user's sampler it also holds the
        samplers' own generators as they stood when the epoch began.
        """
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "position": self._position,
            "epoch_seed": self._epoch_seed,
            "num_batches": self._length_or_none(),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
        }
        if self.generator is not None:
            state["generator"] = self.generator.bit_generator.state
        if self._custom or self._iterable:
            state["sampler"] = self._order_name()
            state["done"] = self._done
            if self._sampler_states:
                state["sampler_generators"] = dict(self._sampler_states)
        return state

    def _order_name(self) -> str | None:
        """What gives the order, for load_state_dict's check: None for the loader's own."""
        if self._iterable:
            return "IterableDataset"
        if not self._custom:
            return None
        return type(self.batch_sampler if self._user_batch_sampler else self.sampler).__name__

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``; the next ``iter()`` yields the rest of that epoch."""
        current = {"batch_size": self.batch_size, "num_batches": self._length_or_none(),
                   "shuffle": self.shuffle, "sampler": self._order_name()}
        for key, mine in current.items():
            # "sampler" is checked both ways: a state without it came from the loader's own order
            if (key in state or key == "sampler") and state.get(key) != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: {key} was {state.get(key)} when saved but is "
                    f"{mine} now; the remaining batches would differ"
                )
        self.epoch = int(state["epoch"])
        self._position = int(state["position"])
        seed = state["epoch_seed"]
        self._epoch_seed = None if seed is None else int(seed)
        self._done = bool(state.get("done", False))
        self._sampler_states = dict(state.get("sampler_generators", {}))
        if "generator" in state:
            if self.generator is None:
                self.generator = np.random.default_rng()
            self.generator.bit_generator.state = state["generator"]
        self._resume = True

    def __repr__(self) -> str:
        order = self._order_name()
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, num_workers={self.num_workers}"
            + (f", sampler={order}" if order else "")
            + f", batches={self._length_or_none()})"
        )
