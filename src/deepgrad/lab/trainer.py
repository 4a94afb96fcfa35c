"""The training loop: a plain PyTorch loop inside, callbacks at its joints, exact resume.

``Trainer.fit`` is the loop every course writes::

    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        evaluate(model, val_loader)

plus callbacks (logging, checkpoints, early stopping, schedulers, guards)
and the bookkeeping that makes a run resumable bit for bit: the epoch and
step counters, the loader's position, the running sums of the epoch in
progress and the random generator all go into every checkpoint.

Per step the loop adds one float read of the loss and the metrics of the
batch, computed on arrays: no syncs, no histograms (those run at epoch ends).

The Trainer knows no loggers, recorders or run folders: ``deepgrad.lab.fit``
builds those (``run_setup``) and hands them over as callbacks.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.tensor import Tensor

from . import registry
from .adapters import array_of, as_tensor, split_batch
from .callbacks import Callback, CallbackList, LearningRateScheduler, Logs
from .fingerprint import check_fingerprint
from .history import History
from .metrics import to_labels


class EpochMeter:
    """Running sums of one epoch: samples, loss and batch metrics (weighted by batch size)."""

    def __init__(self) -> None:
        self.samples = 0
        self.loss_sum = 0.0
        self.metric_sums: dict[str, float] = {}
        self.seconds = 0.0

    def update(self, n: int, loss: float, batch_metrics: dict[str, float]) -> None:
        self.samples += n
        self.loss_sum += loss * n
        for name, value in batch_metrics.items():
            self.metric_sums[name] = self.metric_sums.get(name, 0.0) + value * n

    def result(self, prefix: str = "train_") -> Logs:
        n = max(self.samples, 1)
        logs = {f"{prefix}loss": self.loss_sum / n}
        logs.update({f"{prefix}{k}": v / n for k, v in self.metric_sums.items()})
        return logs

    def state_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "loss_sum": self.loss_sum,
                "metric_sums": dict(self.metric_sums), "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.samples = int(state["samples"])
        self.loss_sum = float(state["loss_sum"])
        self.metric_sums = {k: float(v) for k, v in state["metric_sums"].items()}
        self.seconds = float(state["seconds"])


# ---------------------------------------------------------------- the trainer
class Trainer:
    """Owns the model, loss, optimizer and callbacks of one run and drives the loop.

    ``fit(train_loader, val_loader, epochs)`` trains; ``evaluate(loader)``
    measures; ``checkpoint()``/``load_checkpoint()`` save and restore the
    whole training state. ``deepgrad.lab.fit`` builds one of these for you.
    """

    def __init__(self, model: Any, *, loss: Any, optimizer: Any = None,
                 metrics: Iterable[Any] | None = None, callbacks: Iterable[Callback] = (),
                 scheduler: Any = None, scheduler_interval: str = "epoch",
                 scheduler_monitor: str = "val_loss", task: str | None = None,
                 run_dir: str | Path | None = None, grad_clip: float | None = None,
                 verbose: int | None = 0) -> None:
        self.model = model
        self.train_model = model  # what training steps call: a DDP wrapper in distributed runs
        self.loss_fn, self.loss_name = registry.loss_function(loss)
        self.optimizer = registry.make_optimizer(optimizer, model)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.task = task
        self.metric_specs = list(metrics) if metrics is not None else None
        self.metrics: list[tuple[str, Callable[[Any, Any], float]]] = []
        self.whole_split: set[str] = set()  # metrics that must see a whole split (F1...)
        self._metrics_ready = False
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.grad_clip = grad_clip
        self.verbose = verbose
        extra: list[Callback] = []
        self.scheduler = scheduler
        if scheduler is not None:
            extra.append(LearningRateScheduler(scheduler, scheduler_interval, scheduler_monitor))
        self.callbacks = CallbackList([*callbacks, *extra])
        if self.scheduler is None:
            found = [c for c in self.callbacks if isinstance(c, LearningRateScheduler)]
            self.scheduler = found[0].scheduler if found else None
        # state (all of it goes into checkpoints)
        self.epoch = 0  # completed epochs
        self.step = 0  # optimizer steps taken
        self.batch_in_epoch = 0
        self.meter = EpochMeter()
        self.history = History()
        self._elapsed_before = 0.0
        # per-fit flags
        self.epochs = 0
        self.batches_per_epoch = 0
        self.train_loader: Any = None
        self.stop_training = False
        self.skip_step = False
        self.failed: str | None = None
        self.resumed = False
        self.last_eval: dict[str, Any] = {}
        self.fingerprint: dict[str, Any] | None = None  # the model this run trains (fit sets it)
        self.last_checkpoint: Path | None = None  # the newest checkpoint written by this run
        self._pending: dict[str, Any] = {}
        self._t0 = time.perf_counter()

    # ---- small helpers -------------------------------------------------------------
    @property
    def lr(self) -> float:
        if self.optimizer is None:
            return math.nan
        return float(self.optimizer.param_groups[0]["lr"])

    def elapsed(self) -> float:
        """Seconds of training so far, over all sessions of a resumed run."""
        return self._elapsed_before + time.perf_counter() - self._t0

    def say(self, message: str) -> None:
        """Tell the user something (stderr), unless silent."""
        if self.verbose != 0:
            print(message, file=sys.stderr, flush=True)

    def fail(self, message: str) -> None:
        """Stop training because something went wrong; no more checkpoints are written."""
        self.failed = message
        self.stop_training = True
        print(message, file=sys.stderr, flush=True)

    def running_logs(self) -> Logs:
        return self.meter.result()

    def setup_metrics(self, x: Any = None, y: Any = None) -> None:
        """Pick the task and the metric functions (once, from a sample batch)."""
        if self.task is None:
            self.task = registry.infer_task(self.loss_name,
                                            None if x is None else array_of(x),
                                            None if y is None else array_of(y))
        specs = (self.metric_specs if self.metric_specs is not None
                 else registry.default_metrics(self.task))
        self.metrics = []
        self.whole_split = set()
        for spec in specs:
            found = registry.metric(spec)
            fn = found.fn
            if found.name == "accuracy" and self.loss_name == "binary_cross_entropy":
                fn = _with_threshold(fn, 0.5)  # outputs are probabilities, not logits
            self.metrics.append((found.name, fn))
            if found.needs_all:
                self.whole_split.add(found.name)
        self._metrics_ready = True

    def _target(self, y: Any, output: Any) -> Any:
        """Targets shaped like the output for the elementwise losses: BCE wants floats where
        labels are ints (N,), and MSE of (N, 1) against (N,) would broadcast to (N, N)."""
        if not isinstance(y, Tensor) or not isinstance(output, Tensor):
            return y
        found = registry.find_loss(self.loss_name) if self.loss_name else None
        family = found.family if found is not None else None
        if family == "binary":
            if y.dtype.kind != "f" or y.shape != output.shape:
                return Tensor(y._array.astype(output.dtype).reshape(output.shape), _copy=False)
        elif (family == "reconstruction" and y.shape != output.shape
              and y._array.size == output._array.size):
            return Tensor(y._array.reshape(output.shape), _copy=False)
        return y

    # ---- one step ------------------------------------------------------------------
    def train_step(self, x: Any, y: Any) -> tuple[float, Any]:
        """zero_grad, forward, loss, backward, (guards), step. Returns (loss value, output)."""
        self.optimizer.zero_grad()
        output = self.train_model(x)
        loss = self.loss_fn(output, self._target(y, output))
        loss.backward()
        value = float(loss._array)
        if self.callbacks.has("on_after_backward"):
            self.callbacks.call("on_after_backward", self, {
                "loss": value, "step": self.step + 1, "batch": (x, y)})
        if self.skip_step:
            return value, output
        if self.grad_clip is not None:
            from deepgrad.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        return value, output

    def batch_metrics(self, output: Any, y: Any) -> dict[str, float]:
        out, target = array_of(output), array_of(y)
        return {name: fn(out, target) for name, fn in self.metrics if name not in self.whole_split}

    # ---- one epoch -----------------------------------------------------------------
    def train_epoch(self, loader: Iterable[Any]) -> Logs:
        """Train on every remaining batch of the epoch; return the epoch's train logs."""
        self.model.train()
        if self.batch_in_epoch >= self.batches_per_epoch > 0:
            return self.meter.result()  # resumed after the last batch, before the epoch end
        start = time.perf_counter()
        for batch in loader:
            x, y = split_batch(batch)
            x, y = as_tensor(x), as_tensor(y)
            self.callbacks.call("on_batch_begin", self, {"step": self.step + 1})
            loss, output = self.train_step(x, y)
            if self.skip_step:
                break
            self.step += 1
            self.batch_in_epoch += 1
            measured = self.batch_metrics(output, y)
            self.meter.update(len(x), loss, measured)
            now = time.perf_counter()
            self.meter.seconds += now - start
            start = now
            self.callbacks.call("on_batch_end", self, {
                "step": self.step, "loss": loss, **measured, "lr": self.lr,
                "batch_size": len(x)})
            if self.stop_training:
                break
        return self.meter.result()

    # ---- the loop ------------------------------------------------------------------
    def fit(self, train_loader: Any, val_loader: Any = None, epochs: int = 1) -> History:
        """Train until ``epochs`` epochs are complete or a callback stops; return the History."""
        if self.optimizer is None:
            raise ValueError("Trainer.fit: an optimizer is needed to train")
        self.train_loader, self.epochs = train_loader, int(epochs)
        self.batches_per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else 0
        if "loader" in self._pending and hasattr(train_loader, "load_state_dict"):
            train_loader.load_state_dict(self._pending.pop("loader"))
        if not self._metrics_ready:
            self.setup_metrics()
        self.stop_training = False
        self._t0 = time.perf_counter()
        self.callbacks.call("on_train_begin", self, {"epoch": self.epoch, "step": self.step})
        if "rng" in self._pending:  # after the callbacks' setup, right before training
            backend.set_rng_state(self._pending.pop("rng"))
        while self.epoch < self.epochs and not self.stop_training:
            self.callbacks.call("on_epoch_begin", self, {"epoch": self.epoch})
            logs: Logs = {"epoch": self.epoch + 1}
            logs.update(self.train_epoch(train_loader))
            if self.failed or (self.stop_training
                               and self.batch_in_epoch < self.batches_per_epoch):
                break  # stopped inside the epoch: it does not count as completed
            logs["step"] = self.step
            train_seconds = self.meter.seconds
            samples = self.meter.samples
            if val_loader is not None:
                logs.update(self.evaluate(val_loader, prefix="val_"))
            logs["lr"] = self.lr
            logs["time"] = train_seconds
            logs["samples_per_sec"] = samples / train_seconds if train_seconds > 0 else math.nan
            logs = {"epoch": logs.pop("epoch"), "step": logs.pop("step"), **logs}
            self.epoch += 1
            self.batch_in_epoch = 0
            self.meter = EpochMeter()
            self.history.append(logs)
            self.callbacks.call("on_epoch_end", self, logs)
        self.callbacks.call("on_train_end", self, {"epoch": self.epoch, "step": self.step})
        return self.history

    # ---- evaluation ----------------------------------------------------------------
    def evaluate(self, loader: Iterable[Any], prefix: str = "", keep_outputs: bool = False,
                 keep_inputs: int = 0) -> Logs:
        """Loss and metrics over a whole split (eval mode, no grad), as ``{prefix+name: value}``.

        Means over samples are accumulated batch by batch; metrics that need
        the whole split (precision, recall, F1) see all predicted labels.
        ``keep_outputs`` keeps the outputs and targets in ``self.last_eval``
        (for predictions.npz), ``keep_inputs`` the first inputs.
        """
        if not self._metrics_ready:
            self.setup_metrics()
        meter = EpochMeter()
        whole = [(name, fn) for name, fn in self.metrics if name in self.whole_split]
        labels: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        outputs: list[np.ndarray] = []
        inputs: list[np.ndarray] = []
        kept_inputs = 0
        was_training = self.model.training
        self.model.eval()
        try:
            with autograd.no_grad():
                for batch in loader:
                    x, y = split_batch(batch)
                    x, y = as_tensor(x), as_tensor(y)
                    output = self.model(x)
                    loss = float(self.loss_fn(output, self._target(y, output))._array)
                    meter.update(len(x), loss, self.batch_metrics(output, y))
                    if whole:
                        labels.append(to_labels(output._array))
                        targets.append(array_of(y))
                    if keep_outputs:
                        outputs.append(np.array(output._array, copy=True))
                        if not whole:
                            targets.append(array_of(y))
                    if kept_inputs < keep_inputs:
                        inputs.append(np.array(x._array[: keep_inputs - kept_inputs], copy=True))
                        kept_inputs += len(inputs[-1])
        finally:
            self.model.train(was_training)
        logs = meter.result(prefix)
        if whole and labels:
            all_labels, all_targets = np.concatenate(labels), np.concatenate(targets)
            for name, fn in whole:
                logs[prefix + name] = fn(all_labels, all_targets)
        if keep_outputs:
            self.last_eval = {
                "outputs": np.concatenate(outputs) if outputs else None,
                "targets": np.concatenate(targets) if targets else None,
                "inputs": np.concatenate(inputs) if inputs else None,
            }
        return logs

    def predict(self, loader: Iterable[Any]) -> np.ndarray:
        """The model's outputs for every batch of ``loader``, concatenated (eval mode)."""
        outs = []
        was_training = self.model.training
        self.model.eval()
        try:
            with autograd.no_grad():
                for batch in loader:
                    x, _ = split_batch(batch)
                    outs.append(np.array(self.model(as_tensor(x))._array, copy=True))
        finally:
            self.model.train(was_training)
        return np.concatenate(outs)

    def test(self, loader: Iterable[Any], keep_inputs: int = 16) -> Logs:
        """Evaluate on the test split, keep the outputs, tell the callbacks (``on_test_end``)."""
        logs = self.evaluate(loader, prefix="test_", keep_outputs=True, keep_inputs=keep_inputs)
        self.history.test = dict(logs)
        self.callbacks.call("on_test_end", self, logs)
        return logs

    # ---- checkpoints ---------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        """The whole training state (docs/run-folder.md): enough to continue bit for bit."""
        loader = self.train_loader
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "scheduler": (self.scheduler.state_dict()
                          if hasattr(self.scheduler, "state_dict") else None),
            "epoch": self.epoch,
            "step": self.step,
            "loader": loader.state_dict() if hasattr(loader, "state_dict") else None,
            "rng": backend.get_rng_state(),
            "history": self.history.state_dict(),
            "trainer": {"batch_in_epoch": self.batch_in_epoch, "meter": self.meter.state_dict(),
                        "elapsed": self.elapsed(), "task": self.task},
            "callbacks": self.callbacks.state_dict(),
            "fingerprint": self.fingerprint,
        }

    def weights_finite(self) -> bool:
        return all(bool(np.isfinite(p._array).all()) for p in self.model.parameters())

    def save_checkpoint(self, path: str | Path) -> bool:
        """Write ``checkpoint()`` atomically; refuse (keeping the old file) non-finite weights."""
        from deepgrad.serialization import save

        if not self.weights_finite():
            kept = (f"the last good checkpoint {self.last_checkpoint} is kept"
                    if self.last_checkpoint is not None else "no checkpoint was written")
            self.fail(f"not writing {path}: the weights are not finite; {kept}")
            return False
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save(self.checkpoint(), path)
        self.last_checkpoint = path
        return True

    def load_checkpoint(self, checkpoint: str | Path | dict[str, Any],
                        where: str = "the checkpoint") -> None:
        """Restore a checkpoint: model, optimizer, scheduler, counters and callbacks now;
        the loader position and the random generator when ``fit`` starts. A checkpoint
        written for another model (``fingerprint``) raises CheckpointMismatch."""
        if not isinstance(checkpoint, dict):
            from deepgrad.serialization import load

            where = str(checkpoint)
            checkpoint = dict(load(checkpoint))
        assert isinstance(checkpoint, dict)
        if self.fingerprint is not None:
            check_fingerprint(checkpoint.get("fingerprint"), self.fingerprint, where)
        self.model.load_state_dict(checkpoint["model"])
        if checkpoint.get("optimizer") is not None and self.optimizer is not None:
            self.optimizer.load_state_dict(checkpoint["optimizer"])
        if checkpoint.get("scheduler") is not None and hasattr(self.scheduler, "load_state_dict"):
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.epoch = int(checkpoint.get("epoch", 0))
        self.step = int(checkpoint.get("step", 0))
        self.history.load_state_dict(checkpoint.get("history") or {})
        trainer = checkpoint.get("trainer") or {}
        self.batch_in_epoch = int(trainer.get("batch_in_epoch", 0))
        if "meter" in trainer:
            self.meter.load_state_dict(trainer["meter"])
        self._elapsed_before = float(trainer.get("elapsed", 0.0))
        self.task = self.task or trainer.get("task")
        self.callbacks.load_state_dict(checkpoint.get("callbacks") or {})
        if checkpoint.get("loader") is not None:
            self._pending["loader"] = checkpoint["loader"]
        if checkpoint.get("rng") is not None:
            self._pending["rng"] = checkpoint["rng"]
        self.resumed = True


def _with_threshold(fn: Callable[..., float], threshold: float) -> Callable[[Any, Any], float]:
    def metric(output: Any, target: Any) -> float:
        return fn(output, target, threshold)

    metric.__name__ = getattr(fn, "__name__", "metric")
    return metric
