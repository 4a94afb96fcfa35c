"""Loader throughput: samples/s of a full MNIST epoch and an augmented CIFAR-10 epoch.

Target: the loader is never the bottleneck, i.e. at least 20x the training
throughput of the course CNNs: >= 20,000 samples/s for MNIST (batch 50,
ToTensor + Normalize) and >= 10,000 samples/s for CIFAR-10 (batch 64,
RandomCrop(32, 4) + RandomHorizontalFlip + ToTensor + Normalize) on 2 cores.

    python benchmarks/loader.py                 # real data via $DEEPGRAD_DATA
    python benchmarks/loader.py --epochs 3 --workers 0 2

Without the real data it falls back to the embedded MNIST sample and to
random CIFAR-shaped pixels (said so in the output).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from deepgrad import backend
from deepgrad.data import CIFAR10, MNIST, DataLoader, DatasetNotFoundError, TensorDataset
from deepgrad.data import transforms as T

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
if SHARED.is_dir():
    os.environ.setdefault("DEEPGRAD_DATA", str(SHARED))

TARGETS = {"mnist": 20_000, "cifar10": 10_000}


def mnist() -> tuple[object, str]:
    tf = T.Compose([T.ToTensor(), T.Normalize(0.1307, 0.3081)])
    try:
        return MNIST(train=True, transform=tf), "MNIST train (60,000)"
    except DatasetNotFoundError:
        return MNIST(root="sample", train=True, transform=tf), "MNIST sample (5,000)"


def cifar10() -> tuple[object, str]:
    tf = T.Compose(
        [
            T.RandomCrop(32, padding=4),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
        ]
    )
    t0 = time.perf_counter()
    try:
        ds = CIFAR10(train=True, transform=tf)
        return ds, f"CIFAR-10 train (50,000; load {time.perf_counter() - t0:.2f}s)"
    except DatasetNotFoundError:
        pixels = np.random.default_rng(0).integers(0, 256, (50000, 32, 32, 3), dtype=np.uint8)
        labels = np.zeros(50000, dtype=np.int64)
        return TensorDataset(pixels, labels, transform=tf), "random CIFAR-shaped pixels (50,000)"


def epoch_rate(dataset: object, batch_size: int, workers: int, epochs: int) -> float:
    """Best samples/s over ``epochs`` full shuffled epochs (yielding Tensors)."""
    loader = DataLoader(dataset, batch_size, shuffle=True, num_workers=workers)
    best = 0.0
    for _ in range(epochs):
        start, n = time.perf_counter(), 0
        for x, _y in loader:
            n += len(x.data)
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = parser.parse_args()
    backend.manual_seed(0)
    print(f"cores: {os.cpu_count()}  numpy {np.__version__}")
    for name, make, batch in (("mnist", mnist, 50), ("cifar10", cifar10, 64)):
        dataset, what = make()
        for workers in args.workers:
            rate = epoch_rate(dataset, batch, workers, args.epochs)
            verdict = "ok" if rate >= TARGETS[name] else "BELOW TARGET"
            print(
                f"{what:48s} batch {batch:3d} workers {workers}: {rate:10,.0f} samples/s "
                f"(target {TARGETS[name]:,}: {verdict})"
            )


if __name__ == "__main__":
    main()
