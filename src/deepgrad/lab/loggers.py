"""Loggers: where measurements go. ``metrics.jsonl`` for the report, TensorBoard for people.

Both are callbacks. The JSONL logger appends one object per logged step,
per epoch and for the final test, flushing each line, so a killed run
leaves a readable file. On resume both drop what was logged after the
checkpoint the run continues from, so no step appears twice.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad.atomic import atomic_write_bytes

from .callbacks import Callback, Logs
from .runs import read_jsonl, to_json

if TYPE_CHECKING:
    from .trainer import Trainer


class JsonlLogger(Callback):
    """Append step, epoch and test records to ``metrics.jsonl`` (format: docs/run-folder.md)."""

    order = 50

    def __init__(self, path: str | os.PathLike[str], every_n_steps: int = 10) -> None:
        self.path = Path(path)
        self.every_n_steps = max(int(every_n_steps), 0)
        self._file: Any = None

    def _open(self) -> Any:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        return self._file

    def write(self, record: dict[str, Any]) -> None:
        f = self._open()
        f.write(to_json(record) + "\n")
        f.flush()

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        if trainer.resumed and self.path.exists():
            truncate_jsonl(self.path, trainer.step)
        self._open()

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.every_n_steps and trainer.step % self.every_n_steps == 0:
            record = {k: v for k, v in logs.items() if k != "batch_size"}
            self.write({"kind": "step", "epoch": trainer.epoch, **record,
                        "time": trainer.elapsed()})

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        self.write({"kind": "epoch", **logs})

    def on_test_end(self, trainer: Trainer, logs: Logs) -> None:
        self.write({"kind": "test", **logs})

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def truncate_jsonl(path: Path, step: int) -> None:
    """Keep only the step and epoch records up to global ``step`` (those a resume repeats go)."""
    kept = [r for r in read_jsonl(path)
            if r.get("kind") in ("step", "epoch") and int(r.get("step", 0)) <= step]
    atomic_write_bytes(path, "".join(to_json(r) + "\n" for r in kept).encode())


_NOT_NEEDED = ("torch", "boto3")


def import_summary_writer() -> Any:
    """tensorboardX's SummaryWriter, imported without importing PyTorch.

    tensorboardX imports torch (for type hints) and boto3 (for s3:// logdirs)
    at import time when they are installed; that costs seconds and deepgrad
    needs neither, so the import runs with them hidden unless already loaded.
    """
    hidden = [name for name in _NOT_NEEDED if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:  # pragma: no cover - tensorboardX is in the lab extra
        raise ImportError("TensorBoard logging needs tensorboardX: "
                          "pip install 'deepgrad[lab]'") from error
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return SummaryWriter


class TensorBoardLogger(Callback):
    """TensorBoard event files under ``logdir`` (tensorboardX, imported on first use).

    Scalars: ``train/batch_loss`` every ``every_n_steps`` steps; at epoch
    ends ``train/loss``, ``train/<metric>``, ``val/loss``, ``val/<metric>``,
    ``lr``; ``test/<metric>`` after the test. Histograms and per-layer
    ``stats/<name>/{mean,std,min,max}`` come from the HistogramRecorder
    through ``add_histogram_stats``; ``samples`` images and the ``graph``
    text are added once by ``fit``. The x axis is the global step.
    """

    order = 50

    def __init__(self, logdir: str | os.PathLike[str], every_n_steps: int = 10) -> None:
        self.logdir = Path(logdir)
        self.every_n_steps = max(int(every_n_steps), 0)
        self._writer: Any = None
        self._purge_step: int | None = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            summary_writer = import_summary_writer()
            # a resumed run gets its own file: same-second file names would clash
            suffix = "" if self._purge_step is None else f".resumed-at-{self._purge_step - 1}"
            self._writer = summary_writer(str(self.logdir), purge_step=self._purge_step,
                                          flush_secs=30, filename_suffix=suffix)
        return self._writer

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        if trainer.resumed:
            self._purge_step = trainer.step + 1  # TensorBoard hides older events past this
        _ = self.writer

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.every_n_steps and trainer.step % self.every_n_steps == 0:
            self.writer.add_scalar("train/batch_loss", logs["loss"], trainer.step)

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        step = trainer.step
        for key, value in logs.items():
            if not isinstance(value, (int, float)) or key in ("epoch", "step"):
                continue
            if key.startswith("train_"):
                tag = "train/" + key[len("train_"):]
            elif key.startswith("val_"):
                tag = "val/" + key[len("val_"):]
            else:
                tag = key  # lr, time, samples_per_sec
            self.writer.add_scalar(tag, float(value), step)
        self.writer.add_scalar("epoch", trainer.epoch, step)
        self.writer.flush()

    def on_test_end(self, trainer: Trainer, logs: Logs) -> None:
        for key, value in logs.items():
            if isinstance(value, (int, float)) and key.startswith("test_"):
                self.writer.add_scalar("test/" + key[len("test_"):], float(value), trainer.step)
        self.writer.flush()

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        if self._writer is not None:
            self._writer.flush()

    # ---- called by fit and the recorders ----------------------------------------
    def add_histogram_stats(self, tag: str, values: np.ndarray, counts: np.ndarray,
                            edges: np.ndarray, step: int, stats_name: str | None = None) -> None:
        """One histogram (bins already counted) and, when ``stats_name``, its four summaries."""
        v = values.astype(np.float64, copy=False).ravel()
        if v.size == 0:
            return
        self.writer.add_histogram_raw(
            tag, min=float(v.min()), max=float(v.max()), num=int(v.size), sum=float(v.sum()),
            sum_squares=float(np.dot(v, v)), bucket_limits=edges[1:].astype(float).tolist(),
            bucket_counts=counts.astype(float).tolist(), global_step=step)
        if stats_name is not None:
            for name, value in (("mean", v.mean()), ("std", v.std()), ("min", v.min()),
                                ("max", v.max())):
                self.writer.add_scalar(f"stats/{stats_name}/{name}", float(value), step)

    def add_images(self, tag: str, images: np.ndarray, step: int = 0) -> None:
        """A batch ``(N, C, H, W)`` of images scaled to [0, 1] per image."""
        x = images.astype(np.float32, copy=False)
        low = x.min(axis=(1, 2, 3), keepdims=True)
        high = x.max(axis=(1, 2, 3), keepdims=True)
        x = (x - low) / np.maximum(high - low, 1e-12)
        self.writer.add_images(tag, x, step, dataformats="NCHW")

    def add_text(self, tag: str, text: str, step: int = 0) -> None:
        # markdown would eat the DOT syntax: indent it as a code block
        self.writer.add_text(tag, "    " + text.replace("\n", "\n    "), step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
