"""Toy 2-D sets: sklearn's geometry and arguments, determinism, deepgrad's seed."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad import backend
from deepgrad.data import make_blobs, make_circles, make_moons, make_spirals


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_blobs])
def test_shapes_dtypes_and_determinism(make) -> None:
    X, y = make(n_samples=101, random_state=3)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.dtype == np.int64
    X2, y2 = make(n_samples=101, random_state=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(n_samples=101, random_state=4)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_blobs])
def test_none_draws_from_deepgrad_seed(make) -> None:
    backend.manual_seed(9)
    a = make(n_samples=50)
    backend.manual_seed(9)
    b = make(n_samples=50)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_moons_geometry_without_noise() -> None:
    X, y = make_moons(n_samples=9, shuffle=False)
    assert y.tolist() == [0] * 4 + [1] * 5  # sklearn: n // 2 outer, the rest inner
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    np.testing.assert_allclose(X[0], [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(X[4], [0.0, 0.5], atol=1e-12)


def test_moons_noise_and_shuffle() -> None:
    X, y = make_moons(n_samples=2000, noise=0.1, random_state=0)
    clean, _ = make_moons(n_samples=2000, random_state=0)
    assert 0.08 < float((X - clean).std()) < 0.12
    assert abs(y.mean() - 0.5) < 1e-9 and not np.all(np.diff(y) >= 0)


def test_circles_radii_and_factor() -> None:
    X, y = make_circles(n_samples=100, shuffle=False, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.0)


def test_blobs_centers_and_counts() -> None:
    centers = [[-5.0, 0.0], [5.0, 0.0], [0.0, 8.0]]
    X, y = make_blobs(n_samples=3001, centers=centers, cluster_std=0.5, random_state=0)
    assert np.bincount(y).tolist() == [1001, 1000, 1000]
    for k, c in enumerate(centers):
        np.testing.assert_allclose(X[y == k].mean(axis=0), c, atol=0.1)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, atol=0.05)
    X3, _ = make_blobs(n_samples=10, n_features=3, centers=4, random_state=1)
    assert X3.shape == (10, 3)
    with pytest.raises(ValueError, match="cluster_std"):
        make_blobs(centers=centers, cluster_std=[1.0, 2.0])


def test_spirals_classes_and_radius() -> None:
    X, y = make_spirals(n_samples=300, n_classes=3, shuffle=False)
    assert np.bincount(y).tolist() == [100, 100, 100]
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() == 0.0 and np.isclose(r.max(), 1.0)
    assert np.all(np.diff(r[y == 1]) > 0)  # each arm winds outwards


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_sample_count(bad) -> None:
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(n_samples=bad)


def test_bad_random_state() -> None:
    with pytest.raises(TypeError, match="random_state"):
        make_moons(random_state="seed")  # type: ignore[arg-type]
