"""Build the offline samples shipped in src/deepgrad/data/_sample/.

Takes 5,000 training and 1,000 test images of MNIST and of Fashion-MNIST,
stratified by class (each class in proportion to the full split, largest
remainder rounding), with a fixed seed, keeps them in their original
order and stores them as compressed uint8 .npz.

    python scripts/make_mnist_sample.py [--data ../shared/datasets]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from deepgrad.data import MNIST, FashionMNIST  # noqa: E402

OUT = REPO / "src" / "deepgrad" / "data" / "_sample"
SEED = 20240501
SIZES = {"train": 5000, "test": 1000}


def stratified(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of n samples, each class in proportion to its share, sorted."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / len(labels)
    take = np.floor(exact).astype(int)
    remainder_order = np.argsort(-(exact - take), kind="stable")
    take[remainder_order[: n - take.sum()]] += 1
    picked = [
        rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
        for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, cls in (("mnist", MNIST), ("fashion-mnist", FashionMNIST)):
        rng = np.random.default_rng(SEED)
        arrays: dict[str, np.ndarray] = {}
        for split, n in SIZES.items():
            ds = cls(root=args.data, train=split == "train")
            idx = stratified(ds.targets, n, rng)
            arrays[f"x_{split}"] = ds.data[idx]
            arrays[f"y_{split}"] = ds.targets[idx].astype(np.uint8)
            arrays[f"index_{split}"] = idx.astype(np.int32)  # position in the full split
        path = OUT / f"{name}.npz"
        np.savez_compressed(path, **arrays)
        print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
