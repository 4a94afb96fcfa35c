"""Data adapters: whatever ``fit`` is given (a DataLoader, a Dataset, arrays) as batches.

``as_loader`` wraps datasets and arrays in a DataLoader, ``split_batch`` reads
``(input, target)`` from a batch (an input-only batch is its own target, for
autoencoders), and ``peek`` takes the first samples of a loader's dataset as
arrays without drawing from the global random generator (so looking at the
data never changes the run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.tensor import Tensor


def split_batch(batch: Any) -> tuple[Any, Any]:
    """``(input, target)`` from a loader batch; a batch of inputs only is its own target."""
    if isinstance(batch, tuple | list):
        if len(batch) >= 2:
            return batch[0], batch[1]
        return batch[0], batch[0]
    return batch, batch


def array_of(x: Any) -> np.ndarray:
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _cast(array: Any) -> np.ndarray:
    """Float arrays to the default float dtype (the toy sets are float64), ints to int64."""
    a = array_of(array)
    if a.dtype.kind == "f" and a.dtype != backend.default_float_dtype():
        return a.astype(backend.default_float_dtype())
    if a.dtype.kind in "iu" and a.dtype != np.uint8:
        return a.astype(np.int64, copy=False)
    return a


def is_loader(data: Any) -> bool:
    """A DataLoader (or any batch iterable with a batch_size) rather than a dataset or arrays."""
    from deepgrad.data import DataLoader

    return isinstance(data, DataLoader) or (
        hasattr(data, "__iter__") and hasattr(data, "batch_size")
        and not hasattr(data, "__getitem__"))


def as_loader(data: Any, batch_size: int, *, shuffle: bool = False,
              generator: np.random.Generator | None = None, drop_last: bool = False,
              num_workers: int = 0, what: str = "data") -> Any:
    """A DataLoader from a DataLoader (kept as is), a Dataset, or arrays ``(X, y)`` / ``X``."""
    from deepgrad.data import DataLoader, TensorDataset

    if data is None:
        return None
    if is_loader(data):
        return data
    if isinstance(data, tuple | list):
        dataset: Any = TensorDataset(*[_cast(a) for a in data])
    elif isinstance(data, np.ndarray | Tensor):
        dataset = TensorDataset(_cast(data))
    elif hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        dataset = data
    else:
        raise TypeError(f"fit: {what} must be a DataLoader, a Dataset, or arrays (X, y); "
                        f"got {type(data).__name__}")
    return DataLoader(dataset, batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator, num_workers=num_workers)


def peek(loader: Any, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The first ``n`` samples of a loader's dataset as arrays ``(x, y)``, drawing no randomness
    from the global generator (a fixed one feeds any random transform)."""
    from deepgrad.data.rng import use_generator

    dataset = getattr(loader, "dataset", None)
    if dataset is None or len(dataset) == 0:
        return None
    indices = np.arange(min(n, len(dataset)))
    with use_generator(np.random.default_rng(0)):
        if hasattr(dataset, "get_batch"):
            batch = dataset.get_batch(indices)
        else:
            from deepgrad.data.dataset import stack_samples

            batch = stack_samples([dataset[int(i)] for i in indices])
    x, y = split_batch(batch)
    return _cast(x), _cast(y)
