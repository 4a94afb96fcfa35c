"""HistogramRecorder: weights, gradients and activations per layer at epoch ends.

They go to ``histograms.npz`` (and to TensorBoard as histograms and
``stats/<name>/{mean,std,min,max}`` scalars when a TensorBoardLogger is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad.lab.callbacks import Callback, Logs
from deepgrad.lab.probes import capture_activations, leaf_modules
from deepgrad.lab.runs import write_npz

if TYPE_CHECKING:
    from deepgrad.lab.loggers import TensorBoardLogger
    from deepgrad.lab.trainer import Trainer

BINS = 30
RELU_LIKE = frozenset({"ReLU", "ReLU6"})
SATURATING = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}


def histogram(values: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``counts (bins,) int64, edges (bins+1,) float32, stats (4,) float32 = mean, std, min, max``.

    Non-finite values are left out of the counts (the stats show them).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)] if not np.isfinite(v).all() else v
    if finite.size == 0:
        return (np.zeros(bins, np.int64), np.linspace(0, 1, bins + 1, dtype=np.float32),
                np.full(4, np.nan, np.float32))
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    stats = np.array([v.mean(), v.std(), v.min(), v.max()], dtype=np.float32)
    return counts.astype(np.int64), edges.astype(np.float32), stats


class HistogramRecorder(Callback):
    """Weights, gradients and activations of every layer, at epoch ends -> ``histograms.npz``.

    Activations are the layer outputs for ``probe`` (a fixed input batch),
    taken in eval mode; gradients are those of the epoch's last step.
    With a TensorBoardLogger the same data go to TensorBoard as
    ``weights/<name>``, ``grads/<name>``, ``activations/<name>`` histograms
    and ``stats/<name>/{mean,std,min,max}`` scalars.
    """

    def __init__(self, path: str | Path | None, probe: np.ndarray | None, *,
                 every_n_epochs: int = 1, tensorboard: TensorBoardLogger | None = None,
                 bins: int = BINS) -> None:
        self.path = Path(path) if path is not None else None
        self.probe = probe
        self.every_n_epochs = max(int(every_n_epochs), 1)
        self.tensorboard = tensorboard
        self.bins = bins
        self.steps: list[int] = []
        self.series: dict[str, dict[str, list[np.ndarray]]] = {}

    def _add(self, key: str, field: str, value: Any) -> None:
        self.series.setdefault(key, {}).setdefault(field, []).append(value)

    def _record(self, kind: str, name: str, values: np.ndarray, step: int,
                module: Any = None) -> None:
        counts, edges, stats = histogram(values, self.bins)
        key = f"{kind}/{name}"
        n_before = len(self.steps) - 1  # this step is already in self.steps
        if len(self.series.get(key, {}).get("counts", [])) != n_before:
            return  # a name that appeared late: keep arrays rectangular
        self._add(key, "counts", counts)
        self._add(key, "edges", edges)
        self._add(key, "stats", stats)
        if kind == "act" and module is not None:
            layer = type(module).__name__
            if layer in RELU_LIKE:
                self._add(key, "dead_frac", np.float32((values == 0).mean()))
            if layer in SATURATING:
                low, high = SATURATING[layer]
                near = (values <= low + 0.01) | (values >= high - 0.01)
                self._add(key, "saturated_frac", np.float32(near.mean()))
        if self.tensorboard is not None:
            tb_kind = {"weight": "weights", "grad": "grads", "act": "activations"}[kind]
            stats_name = name if kind != "grad" else f"grad/{name}"
            self.tensorboard.add_histogram_stats(f"{tb_kind}/{name}", values, counts, edges,
                                                 step, stats_name=stats_name)

    def record(self, trainer: Trainer) -> None:
        step = trainer.step
        self.steps.append(step)
        for name, p in trainer.model.named_parameters():
            self._record("weight", name, p._array, step)
            if p.grad is not None:
                self._record("grad", name, p.grad._array, step)
        if self.probe is not None:
            modules = leaf_modules(trainer.model)
            by_path = dict(modules)
            for path, act in capture_activations(trainer.model, self.probe, modules).items():
                self._record("act", path, act, step, by_path.get(path.split("#")[0]))
        self.write()

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        if trainer.resumed and self.path is not None and self.path.exists():
            self._load(self.path, trainer.step)

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        if trainer.epoch % self.every_n_epochs == 0:
            self.record(trainer)

    def arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"steps": np.asarray(self.steps, dtype=np.int64)}
        n = len(self.steps)
        for key, fields in self.series.items():
            if len(fields["counts"]) != n:
                continue  # a gradient missing at some step
            for field, values in fields.items():
                out[f"{key}/{field}"] = np.stack(values)
        return out

    def write(self) -> None:
        if self.path is not None:
            write_npz(self.path, self.arrays())

    def _load(self, path: Path, max_step: int) -> None:
        with np.load(path, allow_pickle=False) as data:
            steps = data["steps"]
            keep = steps <= max_step
            self.steps = [int(s) for s in steps[keep]]
            for full in data.files:
                if full == "steps":
                    continue
                key, field = full.rsplit("/", 1)
                self.series.setdefault(key, {})[field] = list(data[full][keep])
