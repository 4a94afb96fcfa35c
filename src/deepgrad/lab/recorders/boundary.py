"""BoundaryRecorder: class probabilities over a grid around 2-D inputs -> ``boundary.npz``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad.lab.callbacks import Callback, Logs
from deepgrad.lab.probes import eval_mode, forward_in_chunks
from deepgrad.lab.runs import write_npz

if TYPE_CHECKING:
    from deepgrad.lab.trainer import Trainer


def class_probs(output: np.ndarray) -> np.ndarray:
    """Softmax over classes ``(N, C)``; one logit per sample becomes ``[1 - p, p]``."""
    out = np.asarray(output, dtype=np.float64)
    if out.ndim == 1 or out.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-out.reshape(-1)))
        return np.stack([1.0 - p, p], axis=1).astype(np.float32)
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class BoundaryRecorder(Callback):
    """Class probabilities over a ``grid`` x ``grid`` square around 2-D points -> ``boundary.npz``.

    Recorded before training (epoch 0) and at the end of each epoch in
    ``epochs``; when None, every epoch of the first 10, then about 40 more
    spread evenly, and the last (so a long run's file stays small).
    """

    def __init__(self, path: str | Path | None, points: np.ndarray, labels: np.ndarray, *,
                 epochs: Any = None, grid: int = 100, margin: float = 0.25) -> None:
        points = np.asarray(points, dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"BoundaryRecorder: expected 2-D points (N, 2), got "
                             f"{tuple(points.shape)}")
        self.path = Path(path) if path is not None else None
        self.points, self.labels = points, np.asarray(labels, dtype=np.int64)
        self.epochs = None if epochs is None else {int(e) for e in epochs}
        low, high = points.min(axis=0), points.max(axis=0)
        pad = (high - low) * margin
        self.xx = np.linspace(low[0] - pad[0], high[0] + pad[0], grid, dtype=np.float32)
        self.yy = np.linspace(low[1] - pad[1], high[1] + pad[1], grid, dtype=np.float32)
        gx, gy = np.meshgrid(self.xx, self.yy)  # row i is yy[i], column j is xx[j]
        self.grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        self.recorded_epochs: list[int] = []
        self.probs: list[np.ndarray] = []

    def record(self, trainer: Trainer) -> None:
        with eval_mode(trainer.model):
            out = forward_in_chunks(trainer.model, self.grid_points)
        g = len(self.xx)
        self.probs.append(class_probs(out).reshape(g, g, -1))
        self.recorded_epochs.append(trainer.epoch)
        self.write()

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        if trainer.resumed and self.path is not None and self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                keep = data["epochs"] <= trainer.epoch
                self.recorded_epochs = [int(e) for e in data["epochs"][keep]]
                self.probs = list(data["probs"][keep])
        if 0 not in self.recorded_epochs and trainer.epoch == 0:
            self.record(trainer)

    def wanted(self, epoch: int, total: int) -> bool:
        if self.epochs is not None:
            return epoch in self.epochs
        return epoch <= 10 or epoch == total or epoch % max(1, math.ceil(total / 40)) == 0

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.wanted(trainer.epoch, trainer.epochs):
            self.record(trainer)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"xx": self.xx, "yy": self.yy, "probs": np.stack(self.probs).astype(np.float32),
                "epochs": np.asarray(self.recorded_epochs, dtype=np.int64),
                "points": self.points, "labels": self.labels}

    def write(self) -> None:
        if self.path is not None and self.probs:
            write_npz(self.path, self.arrays())
