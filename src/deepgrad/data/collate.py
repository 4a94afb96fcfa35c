"""The one place where batches of arrays become Tensors.

A ``collate_fn`` in deepgrad receives the batch already stacked (a tuple
of arrays from ``get_batch``) and returns what the DataLoader yields.
``default_collate``/``default_convert`` are torch's functions of those
names, for code that calls them on a list of samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def to_tensors(batch: Any) -> Any:
    """Wrap every array of the batch in a deepgrad Tensor, without copying (the default)."""
    from deepgrad.tensor import Tensor, as_array  # lazy: data depends only on backend

    if isinstance(batch, tuple | list):
        return tuple(to_tensors(b) for b in batch)
    if isinstance(batch, dict):
        return {k: to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, np.ndarray):
        return Tensor(as_array(batch), _copy=False)
    return batch


def as_arrays(batch: Any) -> Any:
    """Leave the batch as NumPy arrays (``collate_fn=as_arrays``): for the lab and benchmarks."""
    return batch


def _stack(arrays: list[np.ndarray]) -> Any:
    from deepgrad.tensor import Tensor

    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got shapes "
                           f"{sorted(shapes)} in one batch; pad or resize the samples, or "
                           f"pass a collate_fn")
    return Tensor(np.stack(arrays), _copy=False)


def default_collate(batch: Sequence[Any]) -> Any:
    """torch's ``default_collate``: a list of samples to one batch, field by field.

    Tensors and arrays are stacked into a Tensor, Python floats become a
    float64 Tensor and ints an int64 one, strings stay a list; dicts,
    namedtuples and sequences are collated per field (tuples give lists, as
    torch). As ``DataLoader(collate_fn=default_collate)`` it means the default.
    """
    from deepgrad.tensor import Tensor, as_array

    if not batch:
        raise IndexError("default_collate: empty batch (no samples to collate)")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([as_array(b) for b in batch])
    if isinstance(elem, np.ndarray | np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        if np.asarray(elem).dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found arrays of dtype {elem.dtype}")
        return _stack([np.asarray(b) for b in batch])
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_), _copy=False)
    if isinstance(elem, int):
        return Tensor(np.asarray(batch, dtype=np.int64), _copy=False)
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64), _copy=False)
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        if len({len(b) for b in batch}) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch, strict=True)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def default_convert(data: Any) -> Any:
    """torch's ``default_convert`` (the collate of ``batch_size=None``): arrays to Tensors,
    the rest as it is."""
    return to_tensors(data)
