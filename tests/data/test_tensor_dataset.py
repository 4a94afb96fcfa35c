"""data.TensorDataset items as torch.utils.data.TensorDataset's: tuples of Tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad as dg
from deepgrad.data import DataLoader, TensorDataset
from helpers import torch_or_skip


def _pair() -> tuple[np.ndarray, np.ndarray]:
    return np.arange(5), np.arange(10, dtype=np.float32).reshape(5, 2)


def _same(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> None:
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert isinstance(a, dg.Tensor)
        assert a.shape == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("index", [0, 3, -1, np.int64(2), slice(1, 3), slice(None, None, 2),
                                   slice(4, 9), slice(3, 1), [0, 4, 2]])
def test_items_match_torch(index: Any) -> None:
    torch = torch_or_skip()
    a, b = _pair()
    ours = TensorDataset(a, b)[index]
    theirs = torch.utils.data.TensorDataset(torch.from_numpy(a), torch.from_numpy(b))[index]
    _same(ours, theirs)


def test_scalar_rows_are_0d_tensors_that_share_memory() -> None:
    a, b = _pair()
    x, y = TensorDataset(a, b)[1]
    assert x.shape == () and x.item() == 1 and y.shape == (2,)
    x.add_(100)  # a view, as torch's ds[i]
    assert a[1] == 101


def test_built_from_tensors() -> None:
    x = dg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    t = dg.tensor([0, 1])
    xi, ti = TensorDataset(x, t)[1]
    assert xi.tolist() == [3.0, 4.0] and ti.item() == 1 and ti.dtype == np.int64


def test_transforms_run_on_items_and_slices() -> None:
    a, b = _pair()
    ds = TensorDataset(b, a, transform=lambda x: x * 2, target_transform=lambda y: y + 1)
    x, y = ds[2]
    assert x.tolist() == [8.0, 10.0] and y.item() == 3
    xs, ys = ds[1:3]
    assert xs.tolist() == [[4.0, 6.0], [8.0, 10.0]] and ys.tolist() == [2, 3]


def test_bad_indices() -> None:
    ds = TensorDataset(*_pair())
    with pytest.raises(IndexError, match="index 5 out of range for a dataset of 5"):
        ds[5]
    with pytest.raises(TypeError, match="an int, a slice or a list of ints, got float"):
        ds[1.5]  # type: ignore[index]
    with pytest.raises(TypeError, match="must hold ints or bools"):
        ds[[0.5]]


def test_loader_still_yields_tensor_batches() -> None:
    a, b = _pair()
    batches = list(DataLoader(TensorDataset(a, b), batch_size=2))
    assert [x.tolist() for x, _ in batches] == [[0, 1], [2, 3], [4]]
    assert all(isinstance(y, dg.Tensor) and y.shape[1:] == (2,) for _, y in batches)
