"""Callbacks: code that runs at fixed points of the training loop (Keras' model, torch inside).

The trainer calls every hook as ``hook(trainer, logs)``:

- ``on_train_begin`` / ``on_train_end``: once per ``fit`` (``on_train_begin``
  also after a resume, with ``trainer.resumed`` set);
- ``on_epoch_begin`` (``logs={"epoch": index}``) / ``on_epoch_end`` (the
  epoch record: ``train_loss``, ``val_loss``, metrics, ``lr``...);
- ``on_batch_begin`` / ``on_after_backward`` (gradients are there, the
  optimizer has not stepped yet; ``logs["batch"]`` is the ``(input, target)``
  being trained on) / ``on_batch_end`` (``loss``, ``step``...);
- ``on_test_end`` after the final evaluation on the test split.

A callback stops training with ``trainer.stop_training = True``. Callbacks
run in ascending ``order``: guards first (-100), ordinary ones (0), the
checkpoint writers last (100), so a checkpoint holds the state every other
callback has already updated. ``state_dict``/``load_state_dict`` are saved
in checkpoints, so a resumed run continues their counters exactly.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .history import resolve_mode
from .nan_trace import trace_nonfinite
from .run_folder import CHECKPOINT_SUFFIX, RunFolder

if TYPE_CHECKING:
    from .trainer import Trainer

Logs = dict[str, Any]

HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward",
         "on_batch_end", "on_epoch_end", "on_train_end", "on_test_end")


class Callback:
    """Base class: override the hooks you need; the others cost nothing per step."""

    order = 0

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_epoch_begin(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_batch_begin(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_after_backward(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_train_end(self, trainer: Trainer, logs: Logs) -> None: ...
    def on_test_end(self, trainer: Trainer, logs: Logs) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to continue this callback (JSON-able or arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def overrides(callback: Callback, hook: str) -> bool:
    """True when ``callback`` defines ``hook`` itself (so the trainer skips no-op calls)."""
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class CallbackList:
    """The callbacks of one run, sorted by ``order``, dispatched hook by hook."""

    def __init__(self, callbacks: list[Callback] | tuple[Callback, ...] = ()) -> None:
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self._by_hook = {h: [c for c in self.callbacks if overrides(c, h)] for h in HOOKS}

    def call(self, hook: str, trainer: Trainer, logs: Logs) -> None:
        for callback in self._by_hook[hook]:
            getattr(callback, hook)(trainer, logs)

    def has(self, hook: str) -> bool:
        return bool(self._by_hook[hook])

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def keyed(self) -> dict[str, Callback]:
        """Stable keys for checkpoints: ``EarlyStopping``, ``ModelCheckpoint``, ``..._1``..."""
        keys: dict[str, Callback] = {}
        for callback in self.callbacks:
            base = type(callback).__name__
            key, k = base, 1
            while key in keys:
                key, k = f"{base}_{k}", k + 1
            keys[key] = callback
        return keys

    def state_dict(self) -> dict[str, Any]:
        return {k: c.state_dict() for k, c in self.keyed().items() if c.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, callback in self.keyed().items():
            if key in state:
                callback.load_state_dict(state[key])


class _Monitor:
    """Shared by EarlyStopping and ModelCheckpoint: is this value better than the best so far?"""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.min_delta = abs(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self._warned = False

    def value(self, logs: Logs, owner: str) -> float | None:
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned:
                print(f"{owner}: {self.monitor!r} is not among the epoch logs "
                      f"({', '.join(sorted(logs))}); doing nothing", file=sys.stderr)
                self._warned = True
            return None
        return float(value)

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        self.best = float(best) if best is not None else self.best
        self.best_epoch = int(state.get("best_epoch", 0))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best`` the model gets back the weights of its best epoch
    when training stops (early or not), as Keras' ``restore_best_weights``.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.tracker = _Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.restore_best = restore_best
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    @property
    def monitor(self) -> str:
        return self.tracker.monitor

    @property
    def best(self) -> float:
        return self.tracker.best

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        value = self.tracker.value(logs, "EarlyStopping")
        if value is None:
            return
        if self.tracker.improved(value):
            self.tracker.best, self.tracker.best_epoch, self.wait = value, trainer.epoch, 0
            if self.restore_best:
                self.best_weights = {k: np.array(v, copy=True)
                                     for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = trainer.epoch
            trainer.history.stopped_early_at = trainer.epoch
            trainer.stop_training = True
            trainer.say(f"EarlyStopping: {self.monitor} has not improved for {self.wait} "
                        f"epochs (best {self.tracker.best:.4g} at epoch "
                        f"{self.tracker.best_epoch}); stopping after epoch {trainer.epoch}")

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.restore_best and self.best_weights is not None and not trainer.failed:
            if self.tracker.best_epoch != trainer.epoch:
                trainer.model.load_state_dict(self.best_weights)
                trainer.say(f"EarlyStopping: restored the weights of epoch "
                            f"{self.tracker.best_epoch} ({self.monitor}={self.tracker.best:.4g})")

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {**self.tracker.state_dict(), "wait": self.wait,
                                 "stopped_epoch": self.stopped_epoch}
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state)
        self.wait = int(state.get("wait", 0))
        self.stopped_epoch = state.get("stopped_epoch")
        weights = state.get("best_weights")
        self.best_weights = ({k: np.asarray(getattr(v, "data", v)) for k, v in weights.items()}
                             if weights else None)


class ModelCheckpoint(Callback):
    """Write training checkpoints: ``last`` (epoch end, and every ``every_n_steps`` steps or
    ``every_n_seconds`` seconds of training), ``best`` (when ``monitor`` improves) and
    ``epoch-NNNN`` every ``every_n_epochs`` epochs.

    Every file is a full training state (``Trainer.checkpoint()``: model,
    optimizer, scheduler, epoch, step, loader position, random generator,
    history), written atomically, so any of them can resume a run exactly.
    Non-finite weights are never written: the last good checkpoint stays.
    """

    order = 100

    def __init__(self, dirpath: str | Path | None = None, *, monitor: str = "val_loss",
                 mode: str = "auto", save_best: bool = True, save_last: bool = True,
                 every_n_epochs: int | None = None, every_n_steps: int | None = None,
                 every_n_seconds: float | None = None) -> None:
        self.dirpath = Path(dirpath) if dirpath is not None else None
        self.tracker = _Monitor(monitor, mode, 0.0)
        self.save_best = save_best
        self.save_last = save_last
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        self.every_n_seconds = every_n_seconds
        self.saved: list[Path] = []
        self._last_save = time.monotonic()

    def _folder(self, trainer: Trainer) -> Path:
        if self.dirpath is None:
            if trainer.run_dir is None:
                raise ValueError("ModelCheckpoint: give dirpath, or train with a run_dir")
            self.dirpath = RunFolder(trainer.run_dir).checkpoints
        return self.dirpath

    def _save(self, trainer: Trainer, name: str) -> None:
        if trainer.failed:
            return
        path = self._folder(trainer) / f"{name}{CHECKPOINT_SUFFIX}"
        if trainer.save_checkpoint(path):
            self.saved.append(path)
            self._last_save = time.monotonic()

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        self._last_save = time.monotonic()

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        if not self.save_last:
            return
        if self.every_n_steps and trainer.step % self.every_n_steps == 0:
            self._save(trainer, "last")
        elif (self.every_n_seconds is not None
              and time.monotonic() - self._last_save >= self.every_n_seconds):
            self._save(trainer, "last")

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.save_best:
            value = self.tracker.value(logs, "ModelCheckpoint")
            if value is not None and self.tracker.improved(value):
                self.tracker.best, self.tracker.best_epoch = value, trainer.epoch
                self._save(trainer, "best")
        if self.every_n_epochs and trainer.epoch % self.every_n_epochs == 0:
            self._save(trainer, f"epoch-{trainer.epoch:04d}")
        if self.save_last:
            self._save(trainer, "last")

    def state_dict(self) -> dict[str, Any]:
        return self.tracker.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state)


class LearningRateScheduler(Callback):
    """Step an lr scheduler after every epoch (``interval="epoch"``) or every step.

    ``ReduceLROnPlateau`` (anything whose ``step`` takes the metric) is
    stepped with ``logs[monitor]`` at epoch ends. A plain function
    ``epoch -> lr`` also works, as Keras' ``LearningRateScheduler``.
    """

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'step', "
                             f"got {interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = monitor
        self.plateau = _is_plateau(scheduler)
        if self.plateau and interval == "step":
            raise ValueError("LearningRateScheduler: ReduceLROnPlateau steps once per epoch, "
                             "on a validation metric; use interval='epoch'")
        self._warned = False

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        if self.interval != "epoch":
            return
        if self.plateau:
            value = logs.get(self.monitor)
            if value is None:
                fallback = self.monitor.replace("val_", "train_", 1)
                value = logs.get(fallback)
                if not self._warned:
                    trainer.say(f"LearningRateScheduler: no {self.monitor!r}; "
                                f"ReduceLROnPlateau watches {fallback!r} instead")
                    self._warned = True
            if value is not None:
                self.scheduler.step(float(value))
        elif callable(self.scheduler) and not hasattr(self.scheduler, "step"):
            lr = float(self.scheduler(trainer.epoch))
            for group in trainer.optimizer.param_groups:
                group["lr"] = lr
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        if hasattr(self.scheduler, "state_dict"):
            return {"scheduler": self.scheduler.state_dict()}
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "scheduler" in state and hasattr(self.scheduler, "load_state_dict"):
            self.scheduler.load_state_dict(state["scheduler"])


def _is_plateau(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau" or getattr(
        scheduler, "needs_metric", False)


class NaNGuard(Callback):
    """Stop at the first non-finite loss or gradient, name the layer where it began,
    and keep the last good checkpoint.

    Each step costs one finiteness test of the loss and one sum over the
    gradients. When either is not finite, the guard skips the optimizer
    step (so the weights stay finite), replays the batch with hooks on every
    layer to find the first one whose output, then whose gradient, went
    non-finite, and stops training with a message naming them.
    """

    order = -100

    def __init__(self, check_grads: bool = True) -> None:
        self.check_grads = check_grads
        self.message: str | None = None

    def on_after_backward(self, trainer: Trainer, logs: Logs) -> None:
        loss = logs["loss"]
        bad_loss = not math.isfinite(loss)
        bad_grad = False
        if not bad_loss and self.check_grads:
            total = 0.0
            with np.errstate(all="ignore"):
                for p in trainer.params:
                    if p.grad is not None:
                        total += float(p.grad._array.sum())
            bad_grad = not math.isfinite(total)
        if not (bad_loss or bad_grad):
            return
        x, y = logs["batch"]
        where = trace_nonfinite(trainer.model, trainer.loss_fn, x, y)
        what = f"loss {loss}" if bad_loss else "a gradient"
        kept = (f"the last good checkpoint is {trainer.last_checkpoint}"
                if trainer.last_checkpoint is not None and trainer.last_checkpoint.exists()
                else "no checkpoint had been written yet")
        self.message = (f"NaNGuard: {what} at epoch {trainer.epoch + 1}, step {trainer.step + 1}"
                        f" is not finite; {where}. Training stopped; {kept} (lower the "
                        "learning rate, clip gradients, or check the data).")
        trainer.skip_step = True
        trainer.fail(self.message)


class LambdaCallback(Callback):
    """Run plain functions at hooks: ``LambdaCallback(on_epoch_end=lambda trainer, logs: ...)``."""

    def __init__(self, **hooks: Callable[[Trainer, Logs], Any]) -> None:
        unknown = set(hooks) - set(HOOKS)
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hooks {sorted(unknown)}; known: {HOOKS}")
        self.hooks = hooks
        for name, fn in hooks.items():
            setattr(self, name, fn)  # an instance attribute shadows the no-op method
