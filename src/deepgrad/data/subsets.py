"""Views over datasets: Subset, ConcatDataset, random_split.

They keep the array fast path: a Subset of an array-backed dataset
answers ``get_batch`` by mapping its indices and asking the parent, so
splitting 50k images into 45k/5k copies no pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgrad import backend

from .dataset import Dataset, check_index, stack_samples


def _get_batch(dataset: Any, indices: np.ndarray) -> Any:
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return stack_samples([dataset[int(i)] for i in indices])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"Subset: indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64).reshape(-1)
        n = len(dataset)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = int(idx[(idx < 0) | (idx >= n)][0])
            raise IndexError(f"Subset: index {bad} out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = idx

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: np.ndarray) -> Any:
        return _get_batch(self.dataset, self.indices[indices])

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[check_index(index, len(self), "Subset")])]

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The parent's raw arrays at these indices (a copy: fancy indexing)."""
        return tuple(a[self.indices] for a in self.dataset.arrays())

    def __getattr__(self, name: str) -> Any:
        # classes, transform ... of the parent, so a Subset can stand in for it
        if name in ("dataset", "indices"):
            raise AttributeError(name)
        return getattr(self.dataset, name)


class ConcatDataset(Dataset):
    """Datasets one after another; ``get_batch`` asks each part once for its share."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets must not be empty")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def _locate(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        part = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        return part, indices - starts[part]

    def __getitem__(self, index: int) -> Any:
        i = check_index(index, len(self), "ConcatDataset")
        part, local = self._locate(np.array([i]))
        return self.datasets[int(part[0])][int(local[0])]

    def get_batch(self, indices: np.ndarray) -> Any:
        indices = np.asarray(indices, dtype=np.int64)
        part, local = self._locate(indices)
        pieces = [
            (np.flatnonzero(part == p), _get_batch(self.datasets[p], local[part == p]))
            for p in np.unique(part)
        ]
        if len(pieces) == 1:
            return pieces[0][1]
        order = np.argsort(np.concatenate([pos for pos, _ in pieces]), kind="stable")
        fields = [b if isinstance(b, tuple) else (b,) for _, b in pieces]
        merged = tuple(
            np.concatenate([np.asarray(f[k]) for f in fields])[order] for k in range(len(fields[0]))
        )
        return merged if isinstance(pieces[0][1], tuple) else merged[0]

    def arrays(self) -> tuple[np.ndarray, ...]:
        parts = [d.arrays() for d in self.datasets]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))


def _split_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Integer lengths from ints summing to n, or fractions summing to 1 (torch's rule)."""
    values = list(lengths)
    if not values:
        raise ValueError("random_split: lengths must not be empty")
    if all(isinstance(v, (int, np.integer)) for v in values):
        ints = [int(v) for v in values]
        if any(v < 0 for v in ints) or sum(ints) != n:
            raise ValueError(
                f"random_split: lengths {ints} sum to {sum(ints)}, but the dataset has {n} "
                "samples; give lengths that add up to it, or fractions that add up to 1"
            )
        return ints
    if any(v < 0 or v > 1 for v in values) or not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions {values} sum to {sum(values)}; they must each lie in "
            "[0, 1] and add up to 1 (or give integer lengths that add up to the dataset size)"
        )
    ints = [int(math.floor(n * v)) for v in values]
    for i in range(n - sum(ints)):  # hand out the remainder round-robin, as torch does
        ints[i % len(ints)] += 1
    return ints


def random_split(
    dataset: Any,
    lengths: Sequence[float],
    generator: np.random.Generator | int | None = None,
) -> list[Subset]:
    """Split into non-overlapping random Subsets of the given lengths or fractions.

    The permutation comes from ``generator`` (a Generator or an int seed),
    else from the library's global generator.
    """
    n = len(dataset)
    sizes = _split_lengths(lengths, n)
    if generator is None:
        rng = backend.get_generator()
    elif isinstance(generator, np.random.Generator):
        rng = generator
    else:
        rng = np.random.default_rng(generator)
    perm = rng.permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
