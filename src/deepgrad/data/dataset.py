"""Datasets: the map-style protocol, and the array-backed fast path.

A dataset answers ``len(ds)`` and ``ds[i]``. An *array-backed* dataset
also answers ``get_batch(indices)``: one fancy index into its arrays and
one call of its (batched) transforms, with no Python loop over samples.
The DataLoader uses ``get_batch`` whenever a dataset has it.

Transforms in deepgrad take a whole batch: ``ds[i]`` runs them on a batch
of one and returns its only element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .transforms import on_batch, on_sample

Transform = Callable[[Any], Any]


def as_array(x: Any) -> np.ndarray:
    """The ndarray behind ``x`` (the array a deepgrad Tensor views, an object with an ndarray
    ``.data``, or ``np.asarray``), uncopied."""
    if isinstance(x, np.ndarray):
        return x
    for name in ("_array", "data"):
        data = getattr(x, name, None)
        if isinstance(data, np.ndarray):
            return data
    return np.asarray(x)


def check_index(index: Any, length: int, owner: str) -> int:
    """A valid non-negative int index, or an IndexError naming the dataset and its length."""
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(
            f"{owner}: index must be an int, got {type(index).__name__}; "
            "use get_batch(indices) for many samples"
        )
    i = int(index)
    if not -length <= i < length:
        raise IndexError(f"{owner}: index {i} out of range for a dataset of {length} samples")
    return i + length if i < 0 else i


def stack_samples(samples: Sequence[Any]) -> Any:
    """Stack a list of samples (tuples of arrays/scalars) field by field: the slow path."""
    if not samples:
        raise ValueError("stack_samples: empty batch")
    first = samples[0]
    if isinstance(first, tuple | list):
        return tuple(stack_samples([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: stack_samples([s[k] for s in samples]) for k in first}
    if isinstance(first, bool | int | np.integer):
        return np.asarray(samples, dtype=np.int64)
    if isinstance(first, float | np.floating):
        return np.asarray(samples, dtype=np.float32)
    return np.stack([as_array(s) for s in samples])


class Dataset:
    """Base of map-style datasets: subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices: np.ndarray) -> Any:
        """A batch as stacked arrays. The default loops over samples; array datasets override."""
        return stack_samples([self[int(i)] for i in indices])

    def __add__(self, other: Dataset) -> Dataset:
        from .subsets import ConcatDataset

        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base of iterable-style datasets (streams): subclasses define ``__iter__``.

    As torch's: no indexing and no sampler; the DataLoader iterates the
    dataset and collates ``batch_size`` items at a time. ``len()`` is optional
    (a subclass may define it for ``len(loader)``). The DataLoader reads the
    stream on its own thread whatever ``num_workers`` is, and
    ``get_worker_info()`` is None there, so torch-style sharding code takes
    its single-process branch and no sample is duplicated.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def get_batch(self, indices: np.ndarray) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no get_batch")

    def __add__(self, other: Any) -> Any:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (what ``a + b`` gives for streams, as torch)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got "
                                f"{type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class ArrayDataset(Dataset):
    """Images (or features) and integer targets held as two arrays of equal length.

    ``data`` keeps the raw storage dtype (uint8 pixels); ``transform`` and
    ``target_transform`` run per batch. ``arrays()`` gives the raw arrays,
    which is what the lab uses to take a whole split at once.
    """

    classes: list[str] = []

    def __init__(
        self,
        data: Any,
        targets: Any,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        data, targets = as_array(data), as_array(targets)
        if len(data) != len(targets):
            raise ValueError(
                f"{type(self).__name__}: data has {len(data)} samples but targets has "
                f"{len(targets)}"
            )
        self.data = data
        self.targets = targets
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw (untransformed) data and targets of the whole split, uncopied."""
        return self.data, self.targets

    def get_batch(self, indices: np.ndarray) -> tuple[Any, Any]:
        """One fancy index of each array, then the batched transforms."""
        return (
            on_batch(self.transform, self.data[indices]),
            on_batch(self.target_transform, self.targets[indices]),
        )

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """One sample as torchvision gives it: after ``ToTensor`` (any transform that makes
        floats) a Tensor, else the raw array (torchvision's PIL image); the label an int."""
        from .collate import to_tensors

        i = check_index(index, len(self), type(self).__name__)
        target = self.targets[i]
        x = on_sample(self.transform, self.data[i])
        y = on_sample(self.target_transform,
                      int(target) if isinstance(target, np.integer) else target)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            x = to_tensors(x)
        return x, y

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self)}, data={self.data.dtype}{tuple(self.data.shape)}"
            f", classes={len(self.classes)})"
        )


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays (or Tensors): ``ds[i] = (a[i], b[i], ...)``.

    As torch's, ``ds[i]`` is a tuple of Tensors (0-d for a scalar row) and ``ds[i:j]``
    (or a list of indices) a tuple of Tensors of those rows; without transforms
    they share memory with the arrays, as torch's views do. ``transform`` applies
    to the first array's batch and ``target_transform`` to the second's, as for
    image datasets.
    """

    def __init__(
        self,
        *tensors: Any,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array")
        self.tensors = tuple(as_array(t) for t in tensors)
        lengths = [len(t) for t in self.tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same length, got {lengths}")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.tensors[0])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The raw arrays, uncopied."""
        return self.tensors

    def _transformed(self, batch: list[Any]) -> tuple[Any, ...]:
        batch[0] = on_batch(self.transform, batch[0])
        if len(batch) > 1:
            batch[1] = on_batch(self.target_transform, batch[1])
        return tuple(batch)

    def get_batch(self, indices: np.ndarray) -> tuple[Any, ...]:
        """Arrays (the DataLoader's fast path: one fancy index, no Tensors yet)."""
        return self._transformed([t[indices] for t in self.tensors])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        from deepgrad.tensor import Tensor

        from .collate import to_tensors

        if isinstance(index, slice):
            return to_tensors(self._transformed([t[index] for t in self.tensors]))
        if isinstance(index, (list, np.ndarray, Tensor)):
            indices = as_array(index)
            if indices.dtype.kind not in "iub":
                raise TypeError(f"TensorDataset: index arrays must hold ints or bools, got "
                                f"{indices.dtype}")
            return to_tensors(self.get_batch(indices))
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(
                f"TensorDataset: index must be an int, a slice or a list of ints, got "
                f"{type(index).__name__}"
            )
        i = check_index(index, len(self), "TensorDataset")
        if self.transform is None and self.target_transform is None:
            rows = [t[i, ...] for t in self.tensors]  # [i, ...]: a 0-d view, not a scalar
        else:  # the transforms take batches: run them on a batch of one
            rows = [b[0, ...] if isinstance(b, np.ndarray) else b[0]
                    for b in self.get_batch(np.array([i]))]
        return to_tensors(tuple(rows))
