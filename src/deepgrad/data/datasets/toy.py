"""2-D toy sets for decision-boundary experiments, with scikit-learn's semantics.

``make_moons``, ``make_circles`` and ``make_blobs`` follow sklearn's
algorithms and arguments (``n_samples``, ``noise``, ``random_state``):
with an int ``random_state`` they return the very same arrays as sklearn,
because they draw from the same ``numpy.random.RandomState`` stream.
``random_state=None`` draws from deepgrad's global generator.
X is float64 (n, 2), y int64 (n,).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgrad import backend

RandomState = int | np.random.RandomState | np.random.Generator | None


def _rng(random_state: RandomState) -> Any:
    """sklearn's ``check_random_state``, with None meaning deepgrad's global generator."""
    if random_state is None:
        return backend.get_generator()
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    if isinstance(random_state, (int, np.integer)):
        return np.random.RandomState(int(random_state))
    raise TypeError(f"random_state: expected None, an int or a generator, got {random_state!r}")


def _check_n(n_samples: int, who: str) -> int:
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"{who}: n_samples must be a positive int, got {n_samples!r}")
    return int(n_samples)


def _shuffle(rng: Any, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sklearn.utils.shuffle: shuffle an index vector in place, then take."""
    order = np.arange(len(X))
    rng.shuffle(order)
    return X[order], y[order]


def _finish(
    rng: Any, X: np.ndarray, y: np.ndarray, shuffle: bool, noise: float | None
) -> tuple[np.ndarray, np.ndarray]:
    if shuffle:
        X, y = _shuffle(rng, X, y)
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y.astype(np.int64)


def make_moons(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below)."""
    n = _check_n(n_samples, "make_moons")
    rng = _rng(random_state)
    n_out, n_in = n // 2, n - n // 2
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.append(np.cos(outer), 1 - np.cos(inner)),
            np.append(np.sin(outer), 1 - np.sin(inner) - 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(rng, X, y, shuffle, noise)


def make_circles(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0) around a small one (class 1) of radius ``factor``."""
    n = _check_n(n_samples, "make_circles")
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must lie in [0, 1), got {factor}")
    rng = _rng(random_state)
    n_out, n_in = n // 2, n - n // 2
    outer = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(outer), np.cos(inner) * factor),
            np.append(np.sin(outer), np.sin(inner) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(rng, X, y, shuffle, noise)


def make_blobs(
    n_samples: int = 100,
    n_features: int = 2,
    *,
    centers: int | Sequence[Sequence[float]] | np.ndarray | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs; ``centers`` is a count (drawn in ``center_box``) or points."""
    n = _check_n(n_samples, "make_blobs")
    rng = _rng(random_state)
    if centers is None:
        centers = 3
    if isinstance(centers, (int, np.integer)):
        centers_arr = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    else:
        centers_arr = np.asarray(centers, dtype=np.float64)
        if centers_arr.ndim != 2:
            raise ValueError(
                f"make_blobs: centers must be (k, n_features), got {tuple(centers_arr.shape)}"
            )
        n_features = centers_arr.shape[1]
    k = len(centers_arr)
    stds = np.full(k, cluster_std) if np.isscalar(cluster_std) else np.asarray(cluster_std)
    if len(stds) != k:
        raise ValueError(f"make_blobs: {len(stds)} cluster_std values for {k} centers")
    per_center = [n // k + (1 if i < n % k else 0) for i in range(k)]
    X = np.empty((n, n_features), dtype=np.float64)
    y = np.empty(n, dtype=np.int64)
    start = 0
    for i, (count, std) in enumerate(zip(per_center, stds, strict=True)):  # loop over centers
        X[start : start + count] = rng.normal(
            loc=centers_arr[i], scale=std, size=(count, n_features)
        )
        y[start : start + count] = i
        start += count
    return _finish(rng, X, y, shuffle, None)


def make_spirals(
    n_samples: int = 100,
    *,
    n_classes: int = 2,
    turns: float = 1.0,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved arms spiralling out from the origin (CS231n's spiral set).

    Arm j has radius r in [0, 1] and angle ``2*pi*(turns*r + j/n_classes)``;
    ``noise`` is the standard deviation of Gaussian noise added to x and y.
    """
    n = _check_n(n_samples, "make_spirals")
    if n_classes < 1:
        raise ValueError(f"make_spirals: n_classes must be >= 1, got {n_classes}")
    rng = _rng(random_state)
    per_class = [n // n_classes + (1 if i < n % n_classes else 0) for i in range(n_classes)]
    y = np.repeat(np.arange(n_classes), per_class)
    starts = np.cumsum([0, *per_class[:-1]])
    position = np.arange(n) - np.repeat(starts, per_class)
    r = position / np.maximum(np.repeat(per_class, per_class) - 1, 1)
    theta = 2 * np.pi * (turns * r + y / n_classes)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return _finish(rng, X, y, shuffle, noise)
