"""Datasets by name, for configs and the lab: ``load_dataset("mnist", train=False)``."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..dataset import ArrayDataset, Transform
from .cifar import CIFAR10
from .mnist import MNIST, FashionMNIST

_ALIASES = {
    "mnist": (MNIST, None),
    "fashion-mnist": (FashionMNIST, None),
    "fashion_mnist": (FashionMNIST, None),
    "fashionmnist": (FashionMNIST, None),
    "cifar10": (CIFAR10, None),
    "cifar-10": (CIFAR10, None),
    "mnist-sample": (MNIST, "sample"),
    "mnist_sample": (MNIST, "sample"),
    "fashion-mnist-sample": (FashionMNIST, "sample"),
    "fashion_mnist_sample": (FashionMNIST, "sample"),
}
DATASET_NAMES = sorted(_ALIASES)


def load_dataset(
    name: str,
    train: bool = True,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    transform: Transform | None = None,
    target_transform: Transform | None = None,
) -> ArrayDataset:
    """The named dataset (``mnist``, ``fashion-mnist``, ``cifar10``, ``mnist-sample`` ...)."""
    key = name.lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASET_NAMES)}")
    cls, forced_root = _ALIASES[key]
    ds: ArrayDataset = cls(
        root=forced_root if forced_root is not None else root,
        train=train,
        download=download,
        transform=transform,
        target_transform=target_transform,
    )
    return ds


def load_arrays(
    name: str,
    train: bool = True,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A whole split as raw arrays: images uint8 (N,H,W[,C]) and labels int64 (N,)."""
    return load_dataset(name, train=train, root=root, download=download).arrays()


def mnist_sample(train: bool = True, transform: Transform | None = None, **kwargs: Any) -> MNIST:
    """The MNIST sample shipped in the package (5,000 train / 1,000 test): works offline."""
    return MNIST(root="sample", train=train, transform=transform, **kwargs)


def fashion_mnist_sample(
    train: bool = True, transform: Transform | None = None, **kwargs: Any
) -> FashionMNIST:
    """The Fashion-MNIST sample shipped in the package (5,000 train / 1,000 test)."""
    return FashionMNIST(root="sample", train=train, transform=transform, **kwargs)
