"""Live learning curves in a notebook: ``fit`` in a Jupyter kernel draws the curves and
the running numbers in one output that is redrawn in place, every epoch and at most once
a second within an epoch (``IPython.display`` with a ``display_id``; no ipywidgets).

``progress_callback(verbose)`` is how ``fit`` picks its progress display: this in a
notebook, the text bar (``ProgressBar``) elsewhere. ``verbose=0`` is silent in both.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from deepgrad.notebook.detect import in_notebook
from deepgrad.notebook.html import esc, frame, num
from deepgrad.notebook.run_view import curves_html, final_table

from .callbacks import Callback, Logs
from .progress import ProgressBar

if TYPE_CHECKING:
    from .trainer import Trainer


class LiveCurves(Callback):
    """A self-updating HTML output: epoch and batch, running loss, samples/s, the curves."""

    order = 60

    def __init__(self, refresh_secs: float = 1.0) -> None:
        self.refresh_secs = refresh_secs
        self.epochs: list[dict[str, Any]] = []
        self.updates = 0  # how many times the output was redrawn (the tests count them)
        self._handle: Any = None
        self._last = 0.0
        self._samples = 0
        self._start = 0.0

    def html(self, trainer: Trainer, state: str) -> str:
        """The output's current content: a status line, then the curves so far."""
        line = (f"<div class=\"deepgrad-live-status\">{esc(state)} · epoch "
                f"{num(trainer.epoch)}/{num(trainer.epochs)}")
        if state == "training" and trainer.batches_per_epoch:
            running = trainer.running_logs()
            rate = self._samples / max(time.perf_counter() - self._start, 1e-9)
            line += (f" · batch {num(trainer.batch_in_epoch)}/{num(trainer.batches_per_epoch)}"
                     + "".join(f" · {esc(k)} {num(v)}" for k, v in running.items()
                               if isinstance(v, float))
                     + f" · {rate:,.0f} samples/s")
        line += "</div>"
        curves = curves_html(self.epochs) if self.epochs else ""
        final = final_table(self.epochs[-1]) if self.epochs and state != "training" else ""
        return frame("live", "Training", line, curves, final)

    def _show(self, trainer: Trainer, state: str) -> None:
        from IPython.display import HTML

        content = HTML(self.html(trainer, state))
        if self._handle is None:
            from IPython.display import display

            self._handle = display(content, display_id=True)
        else:
            self._handle.update(content)
        self.updates += 1
        self._last = time.perf_counter()

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        self.epochs = [dict(r) for r in trainer.history.epochs]  # a resumed run's past
        self._handle = None
        self._show(trainer, "starting")

    def on_epoch_begin(self, trainer: Trainer, logs: Logs) -> None:
        self._samples, self._start = 0, time.perf_counter()

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        self._samples += logs.get("batch_size", 0)
        if time.perf_counter() - self._last >= self.refresh_secs:
            self._show(trainer, "training")

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        self.epochs.append(dict(logs))
        self._show(trainer, "epoch done")

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        failed = getattr(trainer, "failed", None)
        self._show(trainer, f"failed: {failed}" if failed else
                   "stopped" if trainer.epoch < trainer.epochs else "finished")


def progress_callback(verbose: int | None) -> Callback:
    """``LiveCurves`` in a Jupyter kernel (unless ``verbose`` is 0 or 2), else the text bar."""
    if verbose in (None, True, 1) and in_notebook():
        return LiveCurves()
    return ProgressBar(verbose)
