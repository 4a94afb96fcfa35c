"""The lab's one table of names: losses, optimizers, schedulers and metrics.

``fit(loss="mse", optimizer="adam")``, a config's ``loss: mae`` or
``optimizer: {name: nadam}``, a sweep's ``metric: val_mae``, early
stopping's ``mode="auto"`` and the report's "best in bold" all read the
names and the directions here, so they cannot disagree (they did: the name
table was once built from ``dir(deepgrad.optim)``, found the ``adam``
submodule before the ``Adam`` class, and three copies of "is a higher value
better?" gave ``val_mae`` three answers).

Each metric carries its direction: ``"max"`` when higher is better, ``"min"``
when lower is. ``direction("val_top3_accuracy")`` strips the split prefix
and answers for any logged key; it is None for what is not a score (time,
lr, epoch).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from . import metrics as M

__all__ = [
    "UnknownName",
    "Loss",
    "MetricSpec",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULERS",
    "METRICS",
    "loss",
    "loss_aliases",
    "optimizer_class",
    "scheduler_class",
    "metric",
    "get_metric",
    "register_metric",
    "direction",
    "monitor_direction",
    "split_prefix",
]

Direction = Literal["min", "max"]
SPLITS = ("train_", "val_", "test_")


class UnknownName(ValueError):
    """A name that is not in the registry; the message lists the known ones."""


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


# ------------------------------------------------------------------ losses
@dataclass(frozen=True)
class Loss:
    """A loss of ``deepgrad.nn.functional`` and what it tells about the task."""

    name: str  # the functional's name, e.g. "cross_entropy"
    family: Literal["classification", "binary", "reconstruction"]

    @property
    def fn(self) -> Callable[..., Any]:
        import deepgrad.nn.functional as F

        return getattr(F, self.name)

    @property
    def classifies(self) -> bool:
        return self.family in ("classification", "binary")


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("cross_entropy", "classification"),
    Loss("nll_loss", "classification"),
    Loss("binary_cross_entropy", "binary"),
    Loss("binary_cross_entropy_with_logits", "binary"),
    Loss("mse_loss", "reconstruction"),
    Loss("l1_loss", "reconstruction"),
    Loss("smooth_l1_loss", "reconstruction"),
    Loss("huber_loss", "reconstruction"),
)}

# Short names and torch's module names (``CrossEntropyLoss``), lower-cased, "-" as "_".
_LOSS_ALIASES: dict[str, str] = {
    "ce": "cross_entropy", "crossentropy": "cross_entropy", "crossentropyloss": "cross_entropy",
    "nll": "nll_loss", "nllloss": "nll_loss",
    "bce": "binary_cross_entropy", "bceloss": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "bcewithlogitsloss": "binary_cross_entropy_with_logits",
    "mse": "mse_loss", "mseloss": "mse_loss",
    "l1": "l1_loss", "mae": "l1_loss", "l1loss": "l1_loss",
    "smooth_l1": "smooth_l1_loss", "smoothl1loss": "smooth_l1_loss",
    "huber": "huber_loss", "huberloss": "huber_loss",
}


def loss_aliases() -> list[str]:
    """Every loss name accepted anywhere (fit, configs, sweeps), sorted."""
    return sorted({*LOSSES, *_LOSS_ALIASES})


def find_loss(name: str) -> Loss | None:
    """The loss for a name or alias, or None."""
    key = _key(name)
    return LOSSES.get(_LOSS_ALIASES.get(key, key))


def loss(name: str) -> Loss:
    """The loss for a name or alias ("mse", "CrossEntropyLoss", "bce-with-logits")."""
    found = find_loss(name)
    if found is None:
        raise UnknownName(f"unknown loss {name!r}; known: {', '.join(loss_aliases())}")
    return found


# ------------------------------------------------------------------ optimizers and schedulers
# Config name -> class in deepgrad.optim. LBFGS is left out: its step needs a closure,
# which the training loop does not pass.
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam",
    "adagrad": "Adagrad", "adadelta": "Adadelta", "rmsprop": "RMSprop", "radam": "RAdam",
    "rprop": "Rprop",
}
# Config name -> class in deepgrad.optim.lr_scheduler. LambdaLR is left out: it needs a
# Python function, which a YAML file cannot hold.
SCHEDULERS: dict[str, str] = {
    "step": "StepLR", "multistep": "MultiStepLR", "exponential": "ExponentialLR",
    "cosine": "CosineAnnealingLR", "onecycle": "OneCycleLR", "plateau": "ReduceLROnPlateau",
    "linear": "LinearLR", "constant": "ConstantLR", "polynomial": "PolynomialLR",
    "cosine_restarts": "CosineAnnealingWarmRestarts",
}


def _lookup(table: dict[str, str], name: str, what: str) -> str:
    key = name.lower()
    by_class = {v.lower(): v for v in table.values()}
    if key in table:
        return table[key]
    if key in by_class:
        return by_class[key]
    raise UnknownName(f"unknown {what} {name!r}; known: {', '.join(table)} "
                      f"(or the class names {', '.join(table.values())})")


def optimizer_class(name: str) -> type:
    """The optimizer class for ``"adam"``, ``"Adam"``, ``"nadam"``..."""
    import deepgrad.optim as optim

    cls: type = getattr(optim, _lookup(OPTIMIZERS, name, "optimizer"))
    return cls


def scheduler_class(name: str) -> type:
    """The scheduler class for ``"step"``, ``"StepLR"``, ``"cosine"``..."""
    from deepgrad.optim import lr_scheduler

    cls: type = getattr(lr_scheduler, _lookup(SCHEDULERS, name, "scheduler"))
    return cls


# ------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class MetricSpec:
    """A metric function, which way it improves, and whether it must see a whole split."""

    name: str
    fn: M.Metric
    direction: Direction
    needs_all: bool = False  # not a mean over samples (precision, recall, F1)


def _top(k: int) -> M.Metric:
    def top_k(output: Any, target: Any) -> float:
        return M.top_k_accuracy(output, target, k)

    top_k.__name__ = f"top{k}_accuracy"
    return top_k


METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in (
    MetricSpec("accuracy", M.accuracy, "max"),
    MetricSpec("f1_score", M.f1_score, "max", needs_all=True),
    MetricSpec("precision", M.precision, "max", needs_all=True),
    MetricSpec("recall", M.recall, "max", needs_all=True),
    MetricSpec("mse", M.mse, "min"),
    MetricSpec("mae", M.mae, "min"),
    MetricSpec("psnr", M.psnr, "max"),
)}
_METRIC_ALIASES = {"acc": "accuracy"}  # logged under the full name
_METRIC_SYNONYMS = {"f1": "f1_score"}  # logged under the name asked for
_TOP_K = re.compile(r"top_?(\d+)_accuracy")


def _metric_or_none(name: str) -> MetricSpec | None:
    key = _key(name)
    if key in METRICS:
        return METRICS[key]
    if key in _METRIC_ALIASES:
        return METRICS[_METRIC_ALIASES[key]]
    if key in _METRIC_SYNONYMS:
        return dataclasses.replace(METRICS[_METRIC_SYNONYMS[key]], name=key)
    match = _TOP_K.fullmatch(key)
    if match:
        return MetricSpec(key, _top(int(match.group(1))), "max")
    return None


def metric(spec: str | M.Metric) -> MetricSpec:
    """The metric for a name ("accuracy", "acc", "top3_accuracy", "f1", "psnr"...) or a
    callable ``(output, target) -> float`` (registered under its ``__name__`` if it was)."""
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        known = METRICS.get(name)
        if known is not None and known.fn is spec:
            return known
        found = _metric_or_none(name)
        return MetricSpec(name, spec, found.direction if found else "max")
    found = _metric_or_none(spec)
    if found is None:
        aliases = ", ".join([*_METRIC_ALIASES, *_METRIC_SYNONYMS])
        raise UnknownName(f"unknown metric {spec!r}; known: {', '.join(sorted(METRICS))}, "
                          f"{aliases} or 'top<k>_accuracy', or pass a callable "
                          "(output, target) -> float")
    return found


def get_metric(spec: str | M.Metric) -> tuple[str, M.Metric]:
    """``(name, fn)`` for a metric name or a callable (``metric(spec)`` without the rest)."""
    found = metric(spec)
    return found.name, found.fn


def register_metric(name: str, fn: M.Metric, direction: Direction,
                    needs_all: bool = False) -> MetricSpec:
    """Add a metric by name, so configs can ask for it and monitors know its direction."""
    if direction not in ("min", "max"):
        raise ValueError(f"register_metric({name!r}): direction must be 'min' or 'max', "
                         f"got {direction!r}")
    spec = MetricSpec(_key(name), fn, direction, needs_all)
    METRICS[spec.name] = spec
    return spec


def split_prefix(key: str) -> tuple[str, str]:
    """``("val_", "accuracy")`` from ``"val_accuracy"``; ``("", key)`` without a split."""
    for prefix in SPLITS:
        if key.startswith(prefix):
            return prefix, key[len(prefix):]
    return "", key


def direction(key: str) -> Direction | None:
    """Which way a logged value improves: ``"min"`` for losses and errors, ``"max"`` for
    scores (accuracy, F1, PSNR), None for what is not a score (lr, time, epoch)."""
    _, base = split_prefix(key)
    found = _metric_or_none(base)
    if found is not None:
        return found.direction
    base = _key(base)
    if base == "loss" or base.endswith(("_loss", "error")) or find_loss(base) is not None:
        return "min"
    return None


# ------------------------------------------------------------------ what fit accepts
def loss_function(spec: Any) -> tuple[Callable[[Any, Any], Any], str]:
    """``(fn, canonical name)`` from a loss name ("cross_entropy", "mse"...), a loss module
    (``nn.MSELoss()``) or a function ``(output, target) -> scalar Tensor``."""
    if isinstance(spec, str):
        try:
            found = loss(spec)
        except UnknownName as error:
            raise ValueError(f"fit: {error}, or pass a callable (output, target) -> "
                             "scalar Tensor") from None
        return found.fn, found.name
    if not callable(spec):
        raise TypeError(f"fit: loss must be a name or a callable, got {type(spec).__name__}")
    raw = type(spec).__name__ if hasattr(spec, "forward") else getattr(spec, "__name__", "")
    known = find_loss(raw) if raw else None
    return spec, known.name if known is not None else raw


def make_optimizer(spec: Any, model: Any) -> Any:
    """An optimizer from an instance (kept), a factory ``params -> optimizer`` or a name
    ("adam", "SGD", "nadam"), over the model's parameters with the class defaults."""
    if spec is None or hasattr(spec, "step") and hasattr(spec, "param_groups"):
        return spec
    if isinstance(spec, str):
        try:
            cls = optimizer_class(spec)
        except UnknownName as error:
            raise ValueError(f"fit: {error}") from None
        return cls(model.parameters())
    if callable(spec):
        return spec(model.parameters())
    raise TypeError(f"fit: optimizer must be an Optimizer, a factory or a name, "
                    f"got {type(spec).__name__}")


def infer_task(loss_name: str, x: Any = None, y: Any = None) -> str:
    """classification (cross-entropy family), autoencoder (a reconstruction loss with the
    target shaped like the input), or regression."""
    import numpy as np

    found = find_loss(loss_name) if loss_name else None
    if found is not None and found.classifies:
        return "classification"
    if found is not None:
        if x is not None and y is not None and np.shape(x) == np.shape(y):
            return "autoencoder"
        return "regression"
    if y is not None and np.asarray(y).dtype.kind in "iu":
        return "classification"
    return "regression"


def default_metrics(task: str) -> list[str]:
    """The metrics a run logs when none are asked for."""
    return {"classification": ["accuracy"], "autoencoder": ["psnr"]}.get(task, ["mae"])


def monitor_direction(key: str) -> Direction:
    """The direction a monitor (early stopping, "best" checkpoints, sweeps) optimises
    ``key`` in: the registry's answer, and "max" for a name it does not know (a custom
    score), as Keras' ``mode="auto"``."""
    return direction(key) or "max"
