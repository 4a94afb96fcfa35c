"""Samplers: torch.utils.data's index orders, for ``DataLoader(sampler=/batch_sampler=)``.

A sampler is an iterable of dataset indices (a batch sampler: of lists of
them) with a ``len``. The names, arguments, checks and errors are torch's.

Randomness. ``generator=`` takes a ``deepgrad.Generator`` (or any NumPy
``Generator``); the sampler then draws from it as it goes, as torch's do.
With ``generator=None`` each pass draws one seed, when iteration starts,
from the current generator — the library's global one
(``deepgrad.manual_seed`` makes runs repeatable), or inside a DataLoader the
loader's per-epoch one, which is what lets a loader resume a random sampler
mid-epoch exactly. One seed per pass (torch does the same) keeps the global
stream's use independent of how far a pass is read.

Laziness. With replacement, ``RandomSampler`` and ``WeightedRandomSampler``
draw their indices in chunks of ``CHUNK`` as they are read, so
``num_samples=10**10`` costs no memory up front (torch's RandomSampler
draws in chunks of 32; 1024 is about three times faster per index in NumPy,
measured, and still only 8 KiB).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from .dataset import as_array
from .rng import current_generator

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)

CHUNK = 1024
"""Indices drawn per call of the generator when sampling with replacement."""


def _check_generator(generator: Any, owner: str) -> np.random.Generator | None:
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{owner}: generator must be a deepgrad.Generator (or a NumPy Generator) "
                    f"or None, got {type(generator).__name__}; e.g. "
                    f"generator=deepgrad.Generator().manual_seed(0)")


def _pass_generator(generator: np.random.Generator | None) -> np.random.Generator:
    """The generator one pass draws from: the given one, else a fresh one seeded now from the
    current generator (read at iteration time, so ``manual_seed`` takes effect)."""
    if generator is not None:
        return generator
    return np.random.default_rng(int(current_generator().integers(0, 2**63 - 1)))


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Sampler(Generic[T_co]):
    """Base of samplers: subclasses define ``__iter__`` (indices) and usually ``__len__``.

    Generic as torch's, so ``class MySampler(Sampler[int])`` works unchanged.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, the same every pass."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices: a fresh permutation per pass, or ``num_samples`` draws with replacement.

    Without replacement and ``num_samples > len(data_source)`` it chains
    permutations (then a partial one), as torch does.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}")
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """``len(data_source)`` unless given (read each time: a growing dataset grows it)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        total = int(self.num_samples)
        rng = _pass_generator(self.generator)
        if self.replacement:
            for start in range(0, total, CHUNK):  # lazy: O(CHUNK) memory whatever total is
                yield from rng.integers(0, n, size=min(CHUNK, total - start)).tolist()
        else:
            for _ in range(total // n):
                yield from rng.permutation(n).tolist()
            if total % n:
                yield from rng.permutation(n)[: total % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a fresh random order each pass (without replacement)."""

    def __init__(self, indices: Sequence[int], generator: np.random.Generator | None = None
                 ) -> None:
        self.indices = indices
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        rng = _pass_generator(self.generator)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``range(len(weights))``, drawn with probability ∝ weight.

    With replacement the draws are lazy, in chunks. Without, it is torch's
    successive sampling (each draw ∝ the remaining weights; zero weights
    come last), by sorting exponential keys ``E / w``. As torch, invalid
    weights (negative, NaN, all zero) raise RuntimeError when iteration starts.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        from deepgrad.tensor import Tensor  # lazy: data depends only on backend

        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(as_array(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self._w = w
        self.weights = Tensor(w, _copy=False)  # torch keeps a float64 tensor here
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def _check(self) -> None:
        w = self._w
        fix = "; give finite, non-negative weights with a positive sum"
        if not np.all(np.isfinite(w)):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)" + fix)
        if np.any(w < 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)" + fix)
        if w.size == 0 or w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)"
                               + fix)
        if not self.replacement and self.num_samples > w.size:
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (num_samples={self.num_samples}, "
                               f"{w.size} weights); use replacement=True or fewer samples")

    def __iter__(self) -> Iterator[int]:
        self._check()
        w = self._w
        rng = _pass_generator(self.generator)
        if not self.replacement:
            with np.errstate(divide="ignore"):
                keys = rng.standard_exponential(w.size) / w  # inf for zero weights
            tiebreak = rng.random(w.size)  # random order among the zero weights
            yield from np.lexsort((tiebreak, keys))[: self.num_samples].tolist()
            return
        cdf = np.cumsum(w)
        last = int(np.flatnonzero(w > 0)[-1])  # guards a draw rounding up to the total
        for start in range(0, self.num_samples, CHUNK):
            u = rng.random(min(CHUNK, self.num_samples - start)) * cdf[-1]
            yield from np.minimum(np.searchsorted(cdf, u, side="right"), last).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless
    ``drop_last``); ``sampler`` may be any iterable of indices."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # TypeError for a len-less iterable, as torch
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
