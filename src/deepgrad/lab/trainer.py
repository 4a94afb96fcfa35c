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
from deepgrad.tensor import Tensor, as_array

from . import metrics as M
from .callbacks import Callback, CallbackList, LearningRateScheduler, Logs
from .history import History

# ---------------------------------------------------------------- losses and tasks
_LOSS_ALIASES = {
    "cross_entropy": "cross_entropy", "crossentropy": "cross_entropy", "ce": "cross_entropy",
    "crossentropyloss": "cross_entropy",
    "nll": "nll_loss", "nll_loss": "nll_loss", "nllloss": "nll_loss",
    "mse": "mse_loss", "mse_loss": "mse_loss", "mseloss": "mse_loss",
    "l1": "l1_loss", "mae": "l1_loss", "l1_loss": "l1_loss", "l1loss": "l1_loss",
    "bce": "binary_cross_entropy", "binary_cross_entropy": "binary_cross_entropy",
    "bceloss": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "bcewithlogitsloss": "binary_cross_entropy_with_logits",
    "smooth_l1": "smooth_l1_loss", "smooth_l1_loss": "smooth_l1_loss",
    "smoothl1loss": "smooth_l1_loss",
    "huber": "huber_loss", "huber_loss": "huber_loss", "huberloss": "huber_loss",
}
CLASSIFICATION_LOSSES = frozenset({"cross_entropy", "nll_loss", "binary_cross_entropy",
                                   "binary_cross_entropy_with_logits"})
BINARY_LOSSES = frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits"})
RECONSTRUCTION_LOSSES = frozenset({"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"})


def resolve_loss(loss: Any) -> tuple[Callable[[Any, Any], Any], str]:
    """``(fn, canonical name)`` from a name ("cross_entropy", "mse"...), a loss module or
    a function."""
    if isinstance(loss, str):
        key = _LOSS_ALIASES.get(loss.lower().replace("-", "_"))
        if key is None:
            raise ValueError(f"fit: unknown loss {loss!r}; known: {sorted(set(_LOSS_ALIASES))}, "
                             "or pass a callable (output, target) -> scalar Tensor")
        import deepgrad.nn.functional as F

        return getattr(F, key), key
    if not callable(loss):
        raise TypeError(f"fit: loss must be a name or a callable, got {type(loss).__name__}")
    raw = type(loss).__name__ if hasattr(loss, "forward") else getattr(loss, "__name__", "")
    return loss, _LOSS_ALIASES.get(raw.lower(), raw)


def infer_task(loss_name: str, x: Any = None, y: Any = None) -> str:
    """classification (cross-entropy family), autoencoder (reconstruction loss with target
    shaped like the input), or regression."""
    if loss_name in CLASSIFICATION_LOSSES:
        return "classification"
    if loss_name in RECONSTRUCTION_LOSSES:
        if x is not None and y is not None and np.shape(x) == np.shape(y):
            return "autoencoder"
        return "regression"
    if y is not None and np.asarray(y).dtype.kind in "iu":
        return "classification"
    return "regression"


def default_metrics(task: str) -> list[str]:
    return {"classification": ["accuracy"], "autoencoder": ["psnr"]}.get(task, ["mae"])


def resolve_optimizer(optimizer: Any, model: Any) -> Any:
    """An optimizer instance, a factory ``params -> optimizer``, or a name ("adam")."""
    if optimizer is None or hasattr(optimizer, "step") and hasattr(optimizer, "param_groups"):
        return optimizer
    if isinstance(optimizer, str):
        import deepgrad.optim as optim

        names = {n.lower(): n for n in dir(optim) if not n.startswith("_")}
        if optimizer.lower() not in names:
            raise ValueError(f"fit: unknown optimizer {optimizer!r}")
        return getattr(optim, names[optimizer.lower()])(model.parameters())
    if callable(optimizer):
        return optimizer(model.parameters())
    raise TypeError(f"fit: optimizer must be an Optimizer, a factory or a name, "
                    f"got {type(optimizer).__name__}")


# ---------------------------------------------------------------- batches
def split_batch(batch: Any) -> tuple[Any, Any]:
    """``(input, target)`` from a loader batch; a batch of inputs only is its own target."""
    if isinstance(batch, tuple | list):
        if len(batch) >= 2:
            return batch[0], batch[1]
        return batch[0], batch[0]
    return batch, batch


def _data(x: Any) -> np.ndarray:
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


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
        self.loss_fn, self.loss_name = resolve_loss(loss)
        self.optimizer = resolve_optimizer(optimizer, model)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.task = task
        self.metric_specs = list(metrics) if metrics is not None else None
        self.metrics: list[tuple[str, Callable[[Any, Any], float]]] = []
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
        self.batch: tuple[Any, Any] = (None, None)
        self.last_eval: dict[str, Any] = {}
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
            self.task = infer_task(self.loss_name, None if x is None else _data(x),
                                   None if y is None else _data(y))
        specs = self.metric_specs if self.metric_specs is not None else default_metrics(self.task)
        self.metrics = []
        for spec in specs:
            name, fn = M.get_metric(spec)
            if name in ("accuracy",) and self.loss_name == "binary_cross_entropy":
                fn = _with_threshold(fn, 0.5)  # outputs are probabilities, not logits
            self.metrics.append((name, fn))
        self._metrics_ready = True

    def _target(self, y: Any, output: Any) -> Any:
        """Targets shaped like the output for the elementwise losses: BCE wants floats where
        labels are ints (N,), and MSE of (N, 1) against (N,) would broadcast to (N, N)."""
        if not isinstance(y, Tensor) or not isinstance(output, Tensor):
            return y
        if self.loss_name in BINARY_LOSSES:
            if y.dtype.kind != "f" or y.shape != output.shape:
                return Tensor(y._array.astype(output.dtype).reshape(output.shape), _copy=False)
        elif (self.loss_name in RECONSTRUCTION_LOSSES and y.shape != output.shape
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
            self.batch = (x, y)
            self.callbacks.call("on_after_backward", self, {"loss": value, "step": self.step + 1})
            self.batch = (None, None)
        if self.skip_step:
            return value, output
        if self.grad_clip is not None:
            from deepgrad.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        return value, output

    def batch_metrics(self, output: Any, y: Any) -> dict[str, float]:
        out, target = _data(output), _data(y)
        return {name: fn(out, target) for name, fn in self.metrics if name not in M.NEEDS_ALL}

    # ---- one epoch -----------------------------------------------------------------
    def train_epoch(self, loader: Iterable[Any]) -> Logs:
        """Train on every remaining batch of the epoch; return the epoch's train logs."""
        self.model.train()
        if self.batch_in_epoch >= self.batches_per_epoch > 0:
            return self.meter.result()  # resumed after the last batch, before the epoch end
        start = time.perf_counter()
        for batch in loader:
            x, y = split_batch(batch)
            x, y = _as_tensor(x), _as_tensor(y)
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
        whole = [(name, fn) for name, fn in self.metrics if name in M.NEEDS_ALL]
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
                    x, y = _as_tensor(x), _as_tensor(y)
                    output = self.model(x)
                    loss = float(self.loss_fn(output, self._target(y, output))._array)
                    meter.update(len(x), loss, self.batch_metrics(output, y))
                    if whole:
                        labels.append(M.to_labels(output._array))
                        targets.append(_data(y))
                    if keep_outputs:
                        outputs.append(np.array(output._array, copy=True))
                        if not whole:
                            targets.append(_data(y))
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
                    outs.append(np.array(self.model(_as_tensor(x))._array, copy=True))
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
        """The whole training state (notes/runfolder.md): enough to continue bit for bit."""
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
        }

    def weights_finite(self) -> bool:
        return all(bool(np.isfinite(p._array).all()) for p in self.model.parameters())

    def save_checkpoint(self, path: str | Path) -> bool:
        """Write ``checkpoint()`` atomically; refuse (keeping the old file) non-finite weights."""
        from deepgrad.serialization import save

        if not self.weights_finite():
            self.fail(f"not writing {path}: the weights are not finite; the last good "
                      "checkpoint is kept")
            return False
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save(self.checkpoint(), path)
        return True

    def load_checkpoint(self, checkpoint: str | Path | dict[str, Any]) -> None:
        """Restore a checkpoint: model, optimizer, scheduler, counters and callbacks now;
        the loader position and the random generator when ``fit`` starts."""
        if not isinstance(checkpoint, dict):
            from deepgrad.serialization import load

            checkpoint = dict(load(checkpoint))
        assert isinstance(checkpoint, dict)
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


# ================================================================ the user-facing API
def _cast(array: Any) -> np.ndarray:
    """Float arrays to the default float dtype (the toy sets are float64), ints to int64."""
    a = _data(array)
    if a.dtype.kind == "f" and a.dtype != backend.default_float_dtype():
        return a.astype(backend.default_float_dtype())
    if a.dtype.kind in "iu" and a.dtype != np.uint8:
        return a.astype(np.int64, copy=False)
    return a


def is_loader(data: Any) -> bool:
    """A DataLoader (or any batch iterable with a batch_size) rather than a dataset or arrays."""
    from deepgrad.data import DataLoader

    return isinstance(data, DataLoader) or (
        hasattr(data, "__iter__") and hasattr(data, "batch_size")
        and not hasattr(data, "__getitem__"))


def as_loader(data: Any, batch_size: int, *, shuffle: bool = False,
              generator: np.random.Generator | None = None, drop_last: bool = False,
              num_workers: int = 0, what: str = "data") -> Any:
    """A DataLoader from a DataLoader (kept as is), a Dataset, or arrays ``(X, y)`` / ``X``."""
    from deepgrad.data import DataLoader, TensorDataset

    if data is None:
        return None
    if is_loader(data):
        return data
    if isinstance(data, tuple | list):
        dataset: Any = TensorDataset(*[_cast(a) for a in data])
    elif isinstance(data, np.ndarray | Tensor):
        dataset = TensorDataset(_cast(data))
    elif hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        dataset = data
    else:
        raise TypeError(f"fit: {what} must be a DataLoader, a Dataset, or arrays (X, y); "
                        f"got {type(data).__name__}")
    return DataLoader(dataset, batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator, num_workers=num_workers)


def peek(loader: Any, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The first ``n`` samples of a loader's dataset as arrays ``(x, y)``, drawing no randomness
    from the global generator (a fixed one feeds any random transform)."""
    from deepgrad.data.rng import use_generator

    dataset = getattr(loader, "dataset", None)
    if dataset is None or len(dataset) == 0:
        return None
    indices = np.arange(min(n, len(dataset)))
    with use_generator(np.random.default_rng(0)):
        if hasattr(dataset, "get_batch"):
            batch = dataset.get_batch(indices)
        else:
            from deepgrad.data.dataset import stack_samples

            batch = stack_samples([dataset[int(i)] for i in indices])
    x, y = split_batch(batch)
    return _cast(x), _cast(y)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def config_from_args(model: Any, optimizer: Any, scheduler: Any, loss_name: str,
                     train_loader: Any, *, name: str, epochs: int, batch_size: int,
                     seed: int | None) -> dict[str, Any]:
    """A config.yaml for runs started from Python rather than from a config file."""
    opt: dict[str, Any] = {"name": type(optimizer).__name__}
    if optimizer is not None and getattr(optimizer, "param_groups", None):
        opt.update({k: _plain(v) for k, v in optimizer.param_groups[0].items() if k != "params"})
    dataset = getattr(train_loader, "dataset", None)
    return {
        "name": name,
        "model": {"name": type(model).__name__},
        "data": {"name": type(dataset).__name__, "batch_size": batch_size,
                 "size": len(dataset) if dataset is not None else None},
        "optimizer": opt,
        "scheduler": None if scheduler is None else {"name": type(scheduler).__name__},
        "loss": loss_name,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "logging": {},
    }


def _resume_paths(resume: str | Path) -> tuple[Path, Path]:
    """``(run folder, checkpoint file)`` from a run folder or a checkpoint path."""
    path = Path(resume)
    if path.is_dir():
        checkpoint = path / "checkpoints" / "last.safetensors"
        if not checkpoint.exists():
            raise FileNotFoundError(f"fit(resume={str(resume)!r}): no checkpoints/last.safetensors"
                                    " there; train with checkpoints (a run_dir) to resume")
        return path, checkpoint
    if path.is_file():
        folder = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        return folder, path
    raise FileNotFoundError(f"fit(resume={str(resume)!r}): no such run folder or checkpoint")


def _write_model_files(run_dir: Path, model: Any, sample: np.ndarray,
                       tensorboard: Any) -> None:
    """graph.dot (one forward pass, eval mode so no dropout draws) and model.txt."""
    from .recorders import eval_mode

    x = Tensor(as_array(sample[:2]), _copy=False)
    try:
        from deepgrad.viz import to_dot

        was_training = model.training
        model.eval()
        try:
            with autograd.enable_grad():
                dot = to_dot(model(x), params=dict(model.named_parameters()))
        finally:
            model.train(was_training)
        (run_dir / "graph.dot").write_text(dot)
        if tensorboard is not None:
            tensorboard.add_text("graph", dot)
    except Exception as error:  # noqa: BLE001 - a picture must not stop training
        print(f"fit: could not draw the graph ({type(error).__name__}: {error})", file=sys.stderr)
    try:
        from deepgrad.nn.summary import summary

        with eval_mode(model):
            text = str(summary(model, input_data=x, verbose=0))
    except Exception:  # noqa: BLE001 - the repr is a fine fallback
        text = repr(model)
    (run_dir / "model.txt").write_text(text + "\n")


def _class_names(given: Any, loader: Any) -> list[str] | None:
    if given is not None:
        return [str(c) for c in given]
    classes = getattr(getattr(loader, "dataset", None), "classes", None)
    return [str(c) for c in classes] if classes else None


def _summary(trainer: Trainer, *, name: str, model_name: str, status: str, monitor: str,
             error: str | None, params: int) -> dict[str, Any]:
    from .runs import machine_info, versions

    history = trainer.history
    last = {k: v for k, v in history.last.items() if k not in ("epoch", "step")}
    best = history.best(monitor) if monitor in history else None
    seconds = sum(r.get("time", 0.0) for r in history.epochs)
    samples = sum(r.get("time", 0.0) * r.get("samples_per_sec", 0.0) for r in history.epochs
                  if math.isfinite(r.get("samples_per_sec", math.nan)))
    return {
        "name": name,
        "model": model_name,
        "status": status,
        "epochs_completed": trainer.epoch,
        "steps": trainer.step,
        "params": params,
        "final": {**last, **history.test},
        "best": None if best is None else {"epoch": best["epoch"], "monitor": monitor,
                                           "value": best[monitor]},
        "stopped_early_at": history.stopped_early_at,
        "wall_time": trainer.elapsed(),
        "samples_per_sec": samples / seconds if seconds > 0 else None,
        "versions": versions(),
        "machine": machine_info(),
        "task": trainer.task,
        "error": error,
    }


def fit(model: Any, train_data: Any, val_data: Any = None, *, loss: Any, optimizer: Any,
        epochs: int, batch_size: int = 32, scheduler: Any = None,
        metrics: Iterable[Any] | None = None, callbacks: Iterable[Callback] = (),
        run_dir: str | Path | None = None, seed: int | None = None, test_data: Any = None,
        resume: str | Path | None = None, runs_root: str | Path | None = None,
        name: str | None = None, config: dict[str, Any] | None = None, task: str | None = None,
        class_names: Iterable[str] | None = None, monitor: str | None = None,
        scheduler_interval: str = "epoch", checkpoint_every_steps: int | None = None,
        checkpoint_every_epochs: int | None = None, log_every_steps: int = 10,
        histograms_every_epochs: int = 1, tensorboard: bool = True,
        boundary_epochs: Iterable[int] | None = None, nan_guard: bool = True,
        grad_clip: float | None = None, verbose: int | None = None, num_workers: int = 0,
        drop_last: bool = False, eval_batch_size: int | None = None,
        distributed: bool = False) -> History:
    """Train ``model`` Keras-style and return its History (one record per epoch).

    Data (``train_data``, ``val_data``, ``test_data``) may be a DataLoader,
    a Dataset or arrays ``(X, y)``. ``loss`` is a name ("cross_entropy",
    "mse", "bce_with_logits"...) or a callable; ``optimizer`` an Optimizer,
    a factory ``params -> Optimizer`` or a name. ``scheduler`` is stepped
    per epoch (or per step with ``scheduler_interval="step"``; a
    ReduceLROnPlateau on ``monitor``). ``seed`` reseeds the global generator
    (dropout, augmentation) and seeds the shuffling.

    With ``run_dir`` (or ``runs_root``, which makes ``<name>-<timestamp>``
    inside it) the whole run folder of notes/runfolder.md is written:
    config, metrics.jsonl, summary.json, checkpoints (``last`` at every
    epoch end and every ``checkpoint_every_steps`` steps), TensorBoard,
    histograms, predictions and activations (after evaluating
    ``test_data``, or ``val_data`` without it), and for 2-D classifiers the
    decision boundary. Without either, nothing is written.

    ``resume=RUN`` continues the run in folder RUN from its last checkpoint,
    bit for bit: a run killed at any point and resumed ends with the same
    weights as one never interrupted.

    ``distributed=True`` trains data-parallel on every rank of the MPI job
    this process belongs to (``mpirun -n N``); ``batch_size`` is the global
    batch, rank 0 writes the run folder. See ``deepgrad.lab.distributed``.
    """
    from .callbacks import ModelCheckpoint, NaNGuard
    from .distributed import DistributedFit
    from .loggers import JsonlLogger, TensorBoardLogger, import_summary_writer
    from .progress import ProgressBar
    from .recorders import (
        BoundaryRecorder,
        HistogramRecorder,
        autoencoder_arrays,
        classification_arrays,
        write_activations,
        write_predictions,
    )
    from .runs import create_run_dir, write_json, write_yaml

    shard = DistributedFit() if distributed else None
    checkpoint_path: Path | None = None
    if resume is not None:
        run_dir, checkpoint_path = _resume_paths(resume)
    if shard is not None and not shard.main:  # only rank 0 writes
        run_dir = runs_root = None
        verbose = 0
    if seed is not None and resume is None:
        backend.manual_seed(seed)
    loader_rng = (np.random.default_rng([seed, 1]) if seed is not None
                  else np.random.default_rng(int(backend.get_generator().integers(2**63))))
    train_loader = (
        shard.loader(train_data, batch_size, seed=seed, drop_last=drop_last,
                     num_workers=num_workers) if shard is not None else
        as_loader(train_data, batch_size, shuffle=True, generator=loader_rng,
                  drop_last=drop_last, num_workers=num_workers, what="train_data"))
    eval_size = eval_batch_size or max(batch_size, 256)
    val_loader = as_loader(val_data, eval_size, generator=np.random.default_rng(0),
                           num_workers=num_workers, what="val_data")
    test_loader = as_loader(test_data, eval_size, generator=np.random.default_rng(0),
                            num_workers=num_workers, what="test_data")

    loss_fn, loss_name = resolve_loss(loss)
    sample = peek(train_loader, 8)
    if task is None:
        task = infer_task(loss_name, *(sample if sample is not None else (None, None)))
    monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
    run_name = name or (config or {}).get("name") or type(model).__name__.lower()
    model_name = ((config or {}).get("model") or {}).get("name") or type(model).__name__
    optimizer = resolve_optimizer(optimizer, model)
    if run_dir is None and runs_root is not None:
        run_dir = create_run_dir(runs_root, run_name)

    user_callbacks = list(callbacks)
    extra: list[Callback] = []
    if nan_guard and not any(isinstance(c, NaNGuard) for c in user_callbacks):
        extra.append(NaNGuard())
    tb: TensorBoardLogger | None = None
    jsonl: JsonlLogger | None = None
    probe: tuple[np.ndarray, np.ndarray] | None = None
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if not any(isinstance(c, ModelCheckpoint) for c in user_callbacks):
            extra.append(ModelCheckpoint(run_dir / "checkpoints", monitor=monitor,
                                         every_n_steps=checkpoint_every_steps,
                                         every_n_epochs=checkpoint_every_epochs))
        jsonl = JsonlLogger(run_dir / "metrics.jsonl", every_n_steps=log_every_steps)
        extra.append(jsonl)
        if tensorboard:
            try:
                import_summary_writer()
                tb = TensorBoardLogger(run_dir / "tb", every_n_steps=log_every_steps)
                extra.append(tb)
            except ImportError:
                print("fit: tensorboardX is not installed; no TensorBoard files "
                      "(pip install 'deepgrad[lab]')", file=sys.stderr)
        probe_source = val_loader if val_loader is not None else train_loader
        probe = peek(probe_source, 256)
        if histograms_every_epochs:
            extra.append(HistogramRecorder(run_dir / "histograms.npz",
                                           None if probe is None else probe[0],
                                           every_n_epochs=histograms_every_epochs,
                                           tensorboard=tb))
        if (task == "classification" and sample is not None and sample[0].ndim == 2
                and sample[0].shape[1] == 2):
            points = peek(train_loader, 2000)
            assert points is not None
            extra.append(BoundaryRecorder(run_dir / "boundary.npz", points[0], points[1],
                                          epochs=boundary_epochs))
    extra.append(ProgressBar(verbose))
    if shard is not None:
        extra.append(shard.callback())

    trainer = Trainer(model, loss=loss_fn, optimizer=optimizer, metrics=metrics,
                      callbacks=[*user_callbacks, *extra], scheduler=scheduler,
                      scheduler_interval=scheduler_interval, scheduler_monitor=monitor,
                      task=task, run_dir=run_dir, grad_clip=grad_clip,
                      verbose=1 if verbose is None else verbose)
    trainer.loss_name = loss_name
    trainer.setup_metrics(*(sample if sample is not None else (None, None)))
    if checkpoint_path is not None:
        trainer.load_checkpoint(checkpoint_path)
    if shard is not None:
        trainer.train_model = shard.wrap(model, seed, resumed=checkpoint_path is not None)
        test_loader = test_loader if shard.main else None  # rank 0 tests and reports
    params = int(sum(p._array.size for p in model.parameters()))

    def write_summary(status: str, error: str | None = None) -> None:
        if run_dir is not None:
            write_json(run_dir / "summary.json", _summary(
                trainer, name=run_name, model_name=model_name, status=status, monitor=monitor,
                error=error, params=params))

    if run_dir is not None:
        if config is None:
            config = config_from_args(model, optimizer, trainer.scheduler, loss_name,
                                      train_loader, name=run_name, epochs=epochs,
                                      batch_size=batch_size, seed=seed)
        if resume is None or not (run_dir / "config.yaml").exists():
            write_yaml(run_dir / "config.yaml", config)
        if resume is None and sample is not None:
            _write_model_files(run_dir, model, sample[0], tb)
            if tb is not None and probe is not None and probe[0].ndim == 4:
                tb.add_images("samples", probe[0][:16])
        write_summary("running")

    try:
        trainer.fit(train_loader, val_loader, epochs)
        if run_dir is not None and not trainer.failed:
            _finish_run(trainer, run_dir, test_loader, val_loader, train_loader,
                        _class_names(class_names, test_loader or val_loader or train_loader),
                        classification_arrays, autoencoder_arrays, write_predictions,
                        write_activations)
        elif test_loader is not None and not trainer.failed:
            trainer.test(test_loader, keep_inputs=0)
    except KeyboardInterrupt:
        write_summary("stopped", "interrupted (KeyboardInterrupt)")
        raise
    except BaseException as error:
        write_summary("failed", f"{type(error).__name__}: {error}")
        raise
    finally:
        for logger in (jsonl, tb):
            if logger is not None:
                logger.close()
    write_summary("failed" if trainer.failed else "completed", trainer.failed)
    trainer.history.status = "failed" if trainer.failed else "completed"
    trainer.history.error = trainer.failed
    trainer.history.run_dir = shard.shared_path(run_dir) if shard is not None else run_dir
    return trainer.history


def _finish_run(trainer: Trainer, run_dir: Path, test_loader: Any, val_loader: Any,
                train_loader: Any, class_names: list[str] | None, classification_arrays: Any,
                autoencoder_arrays: Any, write_predictions: Any, write_activations: Any) -> None:
    """After training: test metrics, predictions.npz and activations.npz."""
    if test_loader is not None:
        trainer.test(test_loader)
        source = test_loader
    elif val_loader is not None:
        trainer.evaluate(val_loader, keep_outputs=True, keep_inputs=16)
        source = val_loader
    else:
        source = None
    if source is not None and trainer.last_eval.get("outputs") is not None:
        ev = trainer.last_eval
        if trainer.task == "classification" and ev["targets"] is not None:
            arrays = classification_arrays(ev["outputs"], ev["targets"], class_names,
                                           getattr(source, "dataset", None))
        elif trainer.task == "autoencoder" and ev["inputs"] is not None:
            arrays = autoencoder_arrays(ev["inputs"], ev["targets"], ev["outputs"])
        else:
            arrays = {"outputs": ev["outputs"].astype(np.float32),
                      "targets": np.asarray(ev["targets"])}
        write_predictions(run_dir / "predictions.npz", arrays)
    head = peek(source if source is not None else train_loader, 8)
    if head is not None:
        write_activations(run_dir / "activations.npz", trainer.model, head[0])


def evaluate(model: Any, data: Any, *, loss: Any = None, metrics: Iterable[Any] | None = None,
             batch_size: int = 256, task: str | None = None) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data`` (DataLoader, Dataset or arrays), in eval mode.

    Without ``loss``: cross-entropy for integer targets, MSE otherwise.
    Returns ``{"loss": ..., "accuracy": ...}``.
    """
    loader = as_loader(data, batch_size, generator=np.random.default_rng(0), what="data")
    sample = peek(loader, 8)
    if loss is None:
        integer = sample is not None and sample[1].dtype.kind in "iu"
        loss = "cross_entropy" if integer else "mse"
    trainer = Trainer(model, loss=loss, metrics=metrics, task=task)
    trainer.setup_metrics(*(sample if sample is not None else (None, None)))
    return trainer.evaluate(loader)


def predict(model: Any, data: Any, *, batch_size: int = 256) -> np.ndarray:
    """The model's raw outputs (logits, reconstructions) for every sample of ``data``."""
    loader = as_loader(data, batch_size, generator=np.random.default_rng(0), what="data")
    return Trainer(model, loss=lambda o, t: o).predict(loader)
