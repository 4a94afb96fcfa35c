"""The one place where batches of arrays become Tensors.

A ``collate_fn`` in deepgrad receives the batch already stacked (a tuple
of arrays from ``get_batch``) and returns what the DataLoader yields.
"""

from __future__ import annotations

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
