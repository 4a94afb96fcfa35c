"""Recorders: look inside the model with module hooks and write what they see to the run folder.

- ``capture_activations``: every layer's output for one batch (forward hooks);
- ``HistogramRecorder``: weights, gradients and activations per layer at
  epoch ends -> ``histograms.npz`` (and TensorBoard histograms/stats);
- ``BoundaryRecorder``: class probabilities over a grid for 2-D inputs ->
  ``boundary.npz``;
- ``write_activations`` / ``write_predictions``: ``activations.npz`` and
  ``predictions.npz`` at the end of a run;
- ``trace_nonfinite``: which layer's output or gradient first went NaN.

Everything runs in eval mode under ``no_grad`` (except the NaN trace,
which needs gradients), and draws nothing from the random generator, so
recording never changes the training run it watches.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor, as_array

from .callbacks import Callback, Logs
from .runs import write_npz

if TYPE_CHECKING:
    from .loggers import TensorBoardLogger
    from .trainer import Trainer

BINS = 30
RELU_LIKE = frozenset({"ReLU", "ReLU6"})
SATURATING = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}


# ------------------------------------------------------------------ module walking
def leaf_modules(model: Any) -> list[tuple[str, Any]]:
    """``(path, module)`` for every module without children, in registration order."""
    leaves = [(name, m) for name, m in model.named_modules() if not any(True for _ in m.children())]
    return [(name or type(m).__name__.lower(), m) for name, m in leaves]


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Eval mode and no_grad inside the block; the previous mode afterwards."""
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with autograd.no_grad():
            yield
    finally:
        model.train(was_training)


def _forward_in_chunks(model: Any, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    outs = [np.asarray(model(Tensor(as_array(x[i:i + chunk]),
                                    _copy=False))._array) for i in range(0, len(x), chunk)]
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


def capture_activations(model: Any, x: Any, modules: list[tuple[str, Any]] | None = None
                        ) -> dict[str, np.ndarray]:
    """Each layer's output for input ``x`` (eval mode, no grad): ``{path: array}``.

    A layer called twice in one forward (a shared ReLU) gives ``path``,
    then ``path#2``...
    """
    outputs: dict[str, np.ndarray] = {}
    handles = []

    def make_hook(path: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, Tensor):
                key, k = path, 1
                while key in outputs:
                    k += 1
                    key = f"{path}#{k}"
                outputs[key] = np.array(output._array, copy=True)
        return hook

    for path, module in modules if modules is not None else leaf_modules(model):
        handles.append(module.register_forward_hook(make_hook(path)))
    try:
        with eval_mode(model):
            model(x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
    finally:
        for handle in handles:
            handle.remove()
    return outputs


# ------------------------------------------------------------------ histograms
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


# ------------------------------------------------------------------ decision boundary
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
            raise ValueError(f"BoundaryRecorder: expected 2-D points (N, 2), got {points.shape}")
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
            out = _forward_in_chunks(trainer.model, self.grid_points)
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


# ------------------------------------------------------------------ end-of-run files
def write_activations(path: str | Path, model: Any, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """``activations.npz``: the inputs, every layer's output, the first conv layer's filters."""
    inputs = np.asarray(inputs, dtype=np.float32)
    arrays: dict[str, np.ndarray] = {"inputs": inputs}
    for key, value in capture_activations(model, inputs).items():
        arrays[key] = np.asarray(value, dtype=np.float32)
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, Tensor) and weight.ndim == 4:
            arrays[f"weights/{name or 'model'}"] = np.asarray(weight._array, dtype=np.float32)
            break
    write_npz(path, arrays)
    return arrays


def to_uint8_images(batch: np.ndarray) -> np.ndarray | None:
    """Images ``(K, H, W)`` or ``(K, H, W, 3)`` uint8 from a batch, or None if not images.

    uint8 input is taken as it is (NCHW turned to NHWC); float input is
    scaled to [0, 255] per image (min to max); flat square vectors
    (784 = 28 x 28) become square images.
    """
    x = np.asarray(batch)
    if x.ndim == 2:
        side = int(round(math.sqrt(x.shape[1])))
        if side * side != x.shape[1] or side < 4:
            return None
        x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3):
        return None
    if x.dtype == np.uint8:
        return x
    x = x.astype(np.float32)
    axes = tuple(range(1, x.ndim))
    low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
    return np.round(255 * (x - low) / np.maximum(high - low, 1e-12)).astype(np.uint8)


def dataset_images(dataset: Any, indices: np.ndarray) -> np.ndarray | None:
    """The images at ``indices`` of a dataset: raw uint8 pixels when it exposes ``arrays()``."""
    if dataset is None or len(indices) == 0:
        return None
    arrays = getattr(dataset, "arrays", None)
    if callable(arrays):
        try:
            raw = np.asarray(arrays()[0])
        except Exception:  # noqa: BLE001 - fall back to the transformed batch
            raw = None
        if raw is not None and raw.dtype == np.uint8 and raw.ndim >= 3:
            return to_uint8_images(raw[indices])
    get_batch = getattr(dataset, "get_batch", None)
    if callable(get_batch):
        batch = get_batch(np.asarray(indices))
        first = batch[0] if isinstance(batch, tuple | list) else batch
        return to_uint8_images(np.asarray(getattr(first, "data", first)))
    return None


def gallery_indices(probs: np.ndarray, targets: np.ndarray, k: int = 64) -> np.ndarray:
    """The ``k`` most confidently wrong rows, then the ``k`` least confident correct ones."""
    preds = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(preds != targets)
    right = np.flatnonzero(preds == targets)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:k]]
    unsure = right[np.argsort(confidence[right], kind="stable")[:k]]
    return np.concatenate([worst, unsure]).astype(np.int64)


def classification_arrays(outputs: np.ndarray, targets: np.ndarray,
                          class_names: list[str] | None, dataset: Any = None,
                          k: int = 64) -> dict[str, np.ndarray]:
    """The classifier part of ``predictions.npz`` (see notes/runfolder.md)."""
    probs = class_probs(outputs)
    targets = np.asarray(targets).reshape(-1).astype(np.int64)
    c = probs.shape[1]
    names = list(class_names) if class_names and len(class_names) == c else [str(i)
                                                                            for i in range(c)]
    arrays = {"probs": probs, "targets": targets, "preds": probs.argmax(axis=1).astype(np.int64),
              "class_names": np.asarray(names, dtype=str)}
    index = gallery_indices(probs, targets, k)
    images = dataset_images(dataset, index)
    if images is not None:
        arrays["gallery_index"] = index
        arrays["gallery_images"] = images
    return arrays


def _as_images01(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        side = int(round(math.sqrt(x.shape[1])))
        if side * side == x.shape[1]:
            x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    elif x.ndim == 4 and x.shape[1] == 3:
        x = x.transpose(0, 2, 3, 1)
    return np.clip(x, 0.0, 1.0)


def autoencoder_arrays(inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray,
                       n: int = 16) -> dict[str, np.ndarray]:
    """The autoencoder part of ``predictions.npz``: clean, noisy, recon, mse, psnr of n samples."""
    from .metrics import psnr_per_sample

    x, y, out = (np.asarray(a[:n], dtype=np.float32) for a in (inputs, targets, outputs))
    mse = ((out.reshape(len(out), -1) - y.reshape(len(y), -1)) ** 2).mean(axis=1)
    return {"clean": _as_images01(y), "noisy": _as_images01(x), "recon": _as_images01(out),
            "mse": mse.astype(np.float32),
            "psnr": psnr_per_sample(out, y.reshape(out.shape)).astype(np.float32)}


def write_predictions(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    write_npz(path, arrays)


# ------------------------------------------------------------------ NaN tracing
def _finite(values: Any) -> bool:
    """All gradients given (Tensors, or None for inputs without grad) are finite."""
    items = values if isinstance(values, tuple | list) else (values,)
    return all(bool(np.isfinite(v._array).all()) for v in items if isinstance(v, Tensor))


def trace_nonfinite(model: Any, loss_fn: Callable[[Any, Any], Any], x: Any, y: Any) -> str:
    """Replay one batch with hooks on every layer; say where values first stopped being finite.

    Forward hooks find the first layer (in forward order) whose output was
    non-finite. Full backward hooks find the first layer (in backward order)
    that received a finite gradient and passed a non-finite one on: the
    layer whose backward broke. Parameters are checked too. The gradients
    the replay makes are discarded and the old ones put back.
    """
    x_data = np.asarray(getattr(x, "data", x))
    if x_data.dtype.kind == "f" and not np.isfinite(x_data).all():
        return "the input batch itself holds non-finite values"
    bad_outputs: list[str] = []
    backward: list[tuple[str, bool, bool]] = []  # (layer, grad out finite, grad in finite)
    handles = []

    def label(path: str, module: Any) -> str:
        return f"'{path}' ({type(module).__name__})"

    def make_forward_hook(name: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, Tensor) and not np.isfinite(output._array).all():
                if name not in bad_outputs:
                    bad_outputs.append(name)
        return hook

    def make_backward_hook(name: str) -> Callable[..., None]:
        def hook(module: Any, grad_input: Any, grad_output: Any) -> None:
            backward.append((name, _finite(grad_output), _finite(grad_input)))
        return hook

    for path, module in leaf_modules(model):
        name = label(path, module)
        handles.append(module.register_forward_hook(make_forward_hook(name)))
        handles.append(module.register_full_backward_hook(make_backward_hook(name)))
    params = dict(model.named_parameters())
    saved = {name: p.grad for name, p in params.items()}
    for p in params.values():
        p.grad = None
    loss_value = math.nan
    replay_error = None
    try:
        with autograd.enable_grad(), np.errstate(all="ignore"):
            loss = loss_fn(model(x), y)
            loss_value = float(np.asarray(loss._array).sum())
            loss.backward()
    except Exception as error:  # noqa: BLE001 - a broken replay still gets reported
        replay_error = f"the replay raised {type(error).__name__}: {error}"
    finally:
        for handle in handles:
            handle.remove()
    bad_params = [name for name, p in params.items()
                  if p.grad is not None and not np.isfinite(p.grad._array).all()]
    for name, p in params.items():
        p.grad = saved[name]
    parts = []
    if bad_outputs:
        parts.append(f"the first layer whose output went non-finite is {bad_outputs[0]}")
    elif not math.isfinite(loss_value):
        parts.append("every layer output is finite, so the loss itself is not "
                     "(e.g. the log of 0; check the targets and the loss)")
    broke = [name for name, out_ok, in_ok in backward if out_ok and not in_ok]
    if broke:
        parts.append(f"the first layer whose gradient went non-finite is {broke[0]} "
                     "(finite gradient in, non-finite gradient out)")
    elif backward and not backward[0][1]:
        parts.append(f"the gradient reaching the last layer {backward[0][0]} is already "
                     "non-finite")
    if bad_params:
        parts.append(f"the first parameter with a non-finite gradient is '{bad_params[0]}'")
    if replay_error:
        parts.append(replay_error)
    if not parts:
        parts.append("a replay of the batch was finite (a random layer such as dropout, "
                     "or an overflow in the optimizer, may be the cause)")
    return "; ".join(parts)
