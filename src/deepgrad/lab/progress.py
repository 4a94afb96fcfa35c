"""Progress bars: one tqdm bar per epoch showing loss, accuracy, samples/s and the ETA.

Quiet when stderr is not a terminal (logs, CI, notebooks piped to files)
or with ``verbose=0``; ``verbose=2`` prints one line per epoch instead of
bars (useful in logs). The postfix is refreshed at most a few times a
second so the bar costs nothing measurable per step.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from .callbacks import Callback, Logs

if TYPE_CHECKING:
    from .trainer import Trainer


def resolve_verbose(verbose: int | None) -> int:
    """0 silent; 1 (or None, True) bars when stderr is a terminal, else silent; 2 one line
    per epoch."""
    if verbose is None or verbose is True or verbose == 1:
        return 1 if sys.stderr.isatty() else 0
    return int(verbose)


def format_logs(logs: Logs, keys: tuple[str, ...] | None = None) -> str:
    parts = []
    for key, value in logs.items():
        if keys is not None and key not in keys:
            continue
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
    return " ".join(parts)


class ProgressBar(Callback):
    """Per-epoch bar (tqdm) with running loss and accuracy, samples/s and ETA."""

    order = 60

    def __init__(self, verbose: int | None = None, refresh_secs: float = 0.25) -> None:
        self.verbose = resolve_verbose(verbose)
        self.refresh_secs = refresh_secs
        self._bar: Any = None
        self._last = 0.0
        self._samples = 0
        self._start = 0.0

    def on_epoch_begin(self, trainer: Trainer, logs: Logs) -> None:
        self._samples, self._start, self._last = 0, time.perf_counter(), 0.0
        if self.verbose != 1:
            return
        from tqdm.auto import tqdm

        total = trainer.batches_per_epoch
        self._bar = tqdm(total=total, initial=trainer.batch_in_epoch, leave=True,
                         desc=f"epoch {trainer.epoch + 1}/{trainer.epochs}", unit="batch",
                         dynamic_ncols=True, file=sys.stderr)

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        self._samples += logs.get("batch_size", 0)
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if now - self._last >= self.refresh_secs:
            self._last = now
            running = trainer.running_logs()
            rate = self._samples / max(now - self._start, 1e-9)
            shown = {k.replace("train_", ""): v for k, v in running.items()}
            self._bar.set_postfix_str(f"{format_logs(shown)} {rate:,.0f} samples/s",
                                      refresh=False)

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self._bar is not None:
            shown = {k: v for k, v in logs.items()
                     if k not in ("epoch", "step", "time", "samples_per_sec")}
            rate = logs.get("samples_per_sec", 0.0)
            self._bar.set_postfix_str(f"{format_logs(shown)} {rate:,.0f} samples/s",
                                      refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose >= 2:
            shown = {k: v for k, v in logs.items() if k not in ("epoch", "step")}
            print(f"epoch {trainer.epoch}/{trainer.epochs} {format_logs(shown)}",
                  file=sys.stderr, flush=True)

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
