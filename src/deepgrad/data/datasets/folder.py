"""ImageFolder: any ``[<split>/]<class>/<image>`` tree or tarball as an array-backed dataset."""

from __future__ import annotations

import os
from pathlib import Path

from ..dataset import ArrayDataset, Transform
from ..errors import CorruptFileError
from .image_tree import read_image_tree


class ImageFolder(ArrayDataset):
    """Images in class folders, decoded once (Pillow) into ``.data`` uint8 (N,H,W[,C]).

    ``root`` is a folder or a tar(.gz) archive. With ``split`` ("train",
    "test", ...) the images are ``<split>/<class>/<image>``; without it
    ``<class>/<image>`` (a single wrapping folder is allowed). Classes are
    the sorted folder names over all splits, so train and test share label
    numbers. All images must have one size; ``mode`` is "RGB" or "L".
    Decoded arrays are cached (see ``image_tree``). Files other than
    .jpg/.jpeg/.png are not images and are ignored.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str | None = None,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        mode: str = "RGB",
        cache: bool = True,
    ) -> None:
        self.root = Path(root)
        self.split = split
        splits = read_image_tree(self.root, mode=mode, cache=cache)
        if split is not None and split not in splits:
            found = sorted(str(s) for s in splits if s is not None)
            raise CorruptFileError(
                f"{self.root}: no images under {split}/<class>/; splits found: {found or 'none'}"
            )
        if split is None and len(splits) > 1:
            found = sorted(str(s) for s in splits)
            raise ValueError(
                f"ImageFolder({self.root}): the tree has split folders {found}; pass split=... "
                "to choose one"
            )
        chosen = splits[split] if split is not None else next(iter(splits.values()))
        self.classes = list(chosen.classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.files = chosen.files
        super().__init__(chosen.images, chosen.labels, transform, target_transform)
