"""Small MNIST-format data sets on disk: gzipped IDX files, as the canonical release ships."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from deepgrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC


def idx_gz(magic: int, array: np.ndarray) -> bytes:
    """One IDX file, gzipped: magic, the dimensions (big-endian), the raw values."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes())


def mnist_files(n_train: int, n_test: int, seed: int = 0) -> dict[str, bytes]:
    """The four files of an MNIST of random 28x28 digits, labels cycling 0-9."""
    rng = np.random.default_rng(seed)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        files[f"{prefix}-images-idx3-ubyte.gz"] = idx_gz(IMAGES_MAGIC, images)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = idx_gz(
            LABELS_MAGIC, (np.arange(n) % 10).astype(np.uint8))
    return files


def write_mnist(folder: Path, n_train: int = 64, n_test: int = 32, seed: int = 0) -> Path:
    """``folder/mnist/`` holding ``mnist_files``; returns ``folder`` (a data root)."""
    (folder / "mnist").mkdir(parents=True, exist_ok=True)
    for name, blob in mnist_files(n_train, n_test, seed).items():
        (folder / "mnist" / name).write_bytes(blob)
    return folder
