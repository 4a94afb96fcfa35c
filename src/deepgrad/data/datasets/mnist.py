"""MNIST and Fashion-MNIST from the four canonical gzipped IDX files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..dataset import ArrayDataset, Transform
from ..download import download_url
from ..errors import CorruptFileError
from ..idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from ..paths import data_roots, download_root, not_found
from .sample import sample_arrays

Root = str | os.PathLike[str] | None


class MNIST(ArrayDataset):
    """The MNIST digits: ``.data`` uint8 (N, 28, 28), ``.targets`` int64 (N,).

    ``root`` is where to look (see ``deepgrad.data.paths``); the files may
    sit in ``<root>/mnist/``, ``<root>/MNIST/raw/`` (torchvision's layout)
    or ``<root>`` itself, gzipped or not. ``root="sample"`` loads the small
    sample shipped in the package (5,000 train / 1,000 test).
    """

    name = "MNIST"
    sample = "mnist"
    folders: tuple[str, ...] = ("mnist", "MNIST/raw", ".")
    mirrors: tuple[str, ...] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
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
        if root is not None and str(root) == "sample":
            self.folder: Path | None = None
            data, targets = sample_arrays(self.sample, train)
        else:
            self.folder = self._find(root, download)
            data, targets = self._read(self.folder, train)
        super().__init__(data, targets, transform, target_transform)

    # ---------------------------------------------------------------- files
    @staticmethod
    def _file_names(train: bool) -> tuple[str, str]:
        prefix = "train" if train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    @staticmethod
    def _existing(folder: Path, stem: str) -> Path | None:
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                return candidate
        return None

    def _find(self, root: Root, download: bool) -> Path:
        """The first folder holding this split's two files; download into root if asked."""
        stems = self._file_names(self.train)
        looked: list[tuple[Path, str]] = []
        for base, origin in data_roots(root):
            for sub in self.folders:
                folder = (base / sub) if sub != "." else base
                looked.append((folder, origin))
                if all(self._existing(folder, s) for s in stems):
                    return folder
        if download:
            folder = download_root(root) / self.folders[0]
            for filename, md5 in self.md5.items():
                urls = [mirror + filename for mirror in self.mirrors]
                download_url(urls, folder / filename, md5=md5)
            return folder
        raise not_found(self.name, looked, f"{'train' if self.train else 'test'} split")

    def _read(self, folder: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
        images_stem, labels_stem = self._file_names(train)
        images_path = self._existing(folder, images_stem)
        labels_path = self._existing(folder, labels_stem)
        assert images_path is not None and labels_path is not None
        images = read_idx(images_path, IMAGES_MAGIC)
        labels = read_idx(labels_path, LABELS_MAGIC)
        if images.shape[1:] != (28, 28):
            raise CorruptFileError(
                f"{images_path}: expected images of 28x28, got {images.shape[1:]}"
            )
        if len(images) != len(labels):
            raise CorruptFileError(
                f"{folder}: {images_path.name} holds {len(images)} images but "
                f"{labels_path.name} holds {len(labels)} labels"
            )
        if labels.size and labels.max() >= len(self.classes):
            raise CorruptFileError(
                f"{labels_path}: label {int(labels.max())} out of range for "
                f"{len(self.classes)} classes"
            )
        return images, labels.astype(np.int64)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): same format and shapes as MNIST, ten clothing classes."""

    name = "FashionMNIST"
    sample = "fashion-mnist"
    folders = ("fashion-mnist", "FashionMNIST/raw", "fashion_mnist", ".")
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
