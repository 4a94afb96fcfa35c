"""Tensor construction, dtypes, metadata, conversions and factories."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad


def test_dtype_rules_follow_torch() -> None:
    assert deepgrad.tensor([1.0, 2.0]).dtype == deepgrad.float32
    assert deepgrad.tensor(np.zeros(2)).dtype == deepgrad.float64
    assert deepgrad.tensor([1, 2]).dtype == deepgrad.int64
    assert deepgrad.tensor([True]).dtype == deepgrad.bool
    assert deepgrad.tensor([1, 2], dtype=deepgrad.float64).dtype == np.float64
    x = deepgrad.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (2.5 * x).dtype == np.float32
    assert (deepgrad.tensor([1, 2]) * 1.5).dtype == np.float32
    assert (deepgrad.tensor([1, 2]) / 2).dtype == np.float32
    assert (x + deepgrad.tensor([1, 2])).dtype == np.float32


def test_metadata_and_conversion() -> None:
    x = deepgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2
    assert x.sum().item() == 21.0
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = x.detach()
    assert not d.requires_grad and d.data.numpy() is x.data.numpy()
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()


def test_tensor_copies_from_numpy_shares() -> None:
    a = np.zeros(3, dtype=np.float32)
    t = deepgrad.tensor(a)
    f = deepgrad.from_numpy(a)
    a[0] = 5
    assert t.numpy()[0] == 0 and f.numpy()[0] == 5


def test_integer_tensor_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        deepgrad.tensor([1, 2], requires_grad=True)


def test_factories_shapes_dtypes_and_seed() -> None:
    assert deepgrad.zeros(2, 3).shape == (2, 3) and deepgrad.zeros((2, 3)).dtype == np.float32
    assert deepgrad.ones(4).numpy().sum() == 4
    assert deepgrad.full((2, 2), 7).dtype == np.int64
    assert deepgrad.full((2,), 0.5).numpy().tolist() == [0.5, 0.5]
    assert deepgrad.empty(3).shape == (3,)
    assert deepgrad.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert deepgrad.arange(0, 1, 0.5).dtype == np.float32
    assert deepgrad.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert deepgrad.eye(3).numpy().trace() == 3
    x = deepgrad.randn(2, 3)
    assert deepgrad.zeros_like(x).shape == (2, 3) and deepgrad.ones_like(x).dtype == np.float32
    assert deepgrad.randn_like(x).shape == (2, 3)
    r = deepgrad.randint(0, 10, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    u = deepgrad.rand(1000)
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    deepgrad.manual_seed(42)
    a = deepgrad.randn(5).numpy()
    deepgrad.manual_seed(42)
    b = deepgrad.randn(5).numpy()
    np.testing.assert_array_equal(a, b)


def test_inplace_and_setitem() -> None:
    x = deepgrad.zeros(3)
    x.add_(1).mul_(3)
    x[0] = 10
    assert x.tolist() == [10.0, 3.0, 3.0]
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]
    x.fill_(2)
    x.copy_(deepgrad.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="copy_"):
        x.copy_(deepgrad.zeros(4))


def test_comparisons_return_bool_tensors() -> None:
    x = deepgrad.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).dtype == np.bool_
    assert (x == deepgrad.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (x <= 2).tolist() == [True, True, False]
    assert deepgrad.tensor([1.0, 2.0]).to(deepgrad.float64).dtype == np.float64
