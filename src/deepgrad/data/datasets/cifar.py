"""CIFAR-10 from any of its three forms: python batches, binary records, or a JPEG tree.

* ``cifar-10-batches-py/``: the canonical pickled batches, read through the
  restricted unpickler (never plain ``pickle``);
* ``cifar-10-batches-bin/``: fixed 3073-byte records (label, then 1024 R,
  1024 G, 1024 B bytes);
* ``cifar10-jpeg.tar.gz``: ``train/<class>/*.jpg``, ``test/<class>/*.jpg``
  (the copy in ../shared/datasets), decoded once and cached as .npy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import ArrayDataset, Transform
from ..download import download_url, extract_tar
from ..errors import CorruptFileError
from ..paths import data_roots, download_root, not_found
from ..safe_pickle import safe_load
from .image_tree import read_image_tree

Root = str | os.PathLike[str] | None
PIXELS = 32 * 32 * 3
RECORD = 1 + PIXELS
# images, labels, class names, file names (JPEG copy only)
Decoded = tuple[np.ndarray, np.ndarray, list[str], list[str] | None]


def _field(batch: Any, key: str, path: Path) -> Any:
    """``batch[key]`` whether the pickle's keys are str (Python 2) or bytes (Python 3)."""
    if isinstance(batch, dict):
        for k in (key, key.encode()):
            if k in batch:
                return batch[k]
    raise CorruptFileError(f"{path}: expected a dict with key {key!r}, got {type(batch).__name__}")


def _to_hwc(rows: np.ndarray) -> np.ndarray:
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3)."""
    return np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _check_labels(labels: np.ndarray, path: Path) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptFileError(f"{path}: labels must lie in 0..9, found {int(labels.max())}")
    return labels.astype(np.int64)


def read_python_batches(folder: Path, train: bool) -> Decoded:
    """Images, labels and class names from ``cifar-10-batches-py``."""
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = [], []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise CorruptFileError(f"{folder}: missing {name}; the folder is incomplete")
        batch = safe_load(path)
        data = np.asarray(_field(batch, "data", path))
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
            raise CorruptFileError(
                f"{path}: 'data' must be uint8 (N, {PIXELS}), got {data.dtype} {tuple(data.shape)}"
            )
        y = np.asarray(_field(batch, "labels", path))
        if y.shape != (len(data),):
            raise CorruptFileError(f"{path}: {len(data)} images but labels of shape "
                                   f"{tuple(y.shape)}")
        images.append(_to_hwc(data))
        labels.append(_check_labels(y, path))
    classes = CIFAR10.classes
    meta = folder / "batches.meta"
    if meta.is_file():
        classes = [
            n.decode() if isinstance(n, bytes) else str(n)
            for n in _field(safe_load(meta), "label_names", meta)
        ]
    return np.concatenate(images), np.concatenate(labels), classes, None


def read_binary_batches(folder: Path, train: bool) -> Decoded:
    """Images, labels and class names from ``cifar-10-batches-bin``."""
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
    images, labels = [], []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise CorruptFileError(f"{folder}: missing {name}; the folder is incomplete")
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % RECORD:
            raise CorruptFileError(
                f"{path}: size {raw.size} bytes is not a whole number of {RECORD}-byte records; "
                "the file is truncated or not a CIFAR-10 binary batch"
            )
        records = raw.reshape(-1, RECORD)
        images.append(_to_hwc(records[:, 1:]))
        labels.append(_check_labels(records[:, 0], path))
    classes = CIFAR10.classes
    meta = folder / "batches.meta.txt"
    if meta.is_file():
        classes = [line.strip() for line in meta.read_text().splitlines() if line.strip()]
    return np.concatenate(images), np.concatenate(labels), classes, None


def read_jpeg_tar(path: Path, train: bool) -> Decoded:
    """Images, labels and class names from the JPEG tree (decoded once, then cached)."""
    split = "train" if train else "test"
    splits = read_image_tree(path)
    if split not in splits:
        raise CorruptFileError(f"{path}: no {split}/<class>/*.jpg images in the archive")
    s = splits[split]
    return s.images, s.labels, list(s.classes), s.files


Reader = Callable[[Path, bool], Decoded]
FORMATS: tuple[tuple[str, Reader], ...] = (
    ("cifar-10-batches-py", read_python_batches),
    ("cifar-10-batches-bin", read_binary_batches),
    ("cifar10-jpeg.tar.gz", read_jpeg_tar),
)


class CIFAR10(ArrayDataset):
    """CIFAR-10: ``.data`` uint8 (N, 32, 32, 3), ``.targets`` int64 (N,), ten classes.

    Looks in ``<root>`` and ``<root>/cifar10`` for, in this order, the
    python batches, the binary batches and the JPEG tarball. ``download``
    fetches torchvision's ``cifar-10-python.tar.gz`` (MD5-checked) and
    extracts it. Images from the JPEG copy are ordered by class, and
    ``.files`` names each one (None for the other formats).
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    archive = "cifar-10-python.tar.gz"
    archive_md5 = "c58f30108f718f92721af3b95e74349a"
    classes = [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ]  # fmt: skip

    def __init__(
        self,
        root: Root = None,
        train: bool = True,
        download: bool = False,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self.train = train
        self.source, reader = self._find(root, download)
        data, targets, classes, self.files = reader(self.source, train)
        if len(classes) != 10:
            raise CorruptFileError(f"{self.source}: expected 10 class names, got {classes}")
        self.classes = classes
        super().__init__(data, targets, transform, target_transform)

    def _find(self, root: Root, download: bool) -> tuple[Path, Reader]:
        looked: list[tuple[Path, str]] = []
        for base, origin in data_roots(root):
            for folder in (base, base / "cifar10"):
                for name, reader in FORMATS:
                    looked.append((folder / name, origin))
                    if (folder / name).exists():
                        return folder / name, reader
        if download:
            folder = download_root(root)
            archive = download_url([self.url], folder / self.archive, md5=self.archive_md5)
            extract_tar(archive, folder)
            return folder / FORMATS[0][0], FORMATS[0][1]
        raise not_found("CIFAR10", looked, f"{'train' if self.train else 'test'} split")
