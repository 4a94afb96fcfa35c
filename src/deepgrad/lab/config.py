"""Experiment configs: YAML in, a checked ``Config`` out, and back to plain YAML.

A config names everything a run needs (model, data, optimizer, scheduler,
loss, epochs, batch size, seed, logging) so one file reproduces one
result. The schema is a tree of dataclasses; loading checks every key and
type and rejects unknown keys with the allowed ones listed, because a
typo (``optimiser:``) that is silently ignored costs a whole training run.

Model, optimizer and scheduler arguments are open-ended (they depend on
the name), so they are checked against the signature of the thing they
configure: ``model.widths`` against the zoo builder, ``optimizer.momentum``
against ``deepgrad.optim.SGD``. The checking itself is ``deepgrad.lab.validator``,
which sweep files share.

``--set key=value`` overrides use dotted keys (``optimizer.lr=0.01``);
values are parsed as YAML scalars, so ``0.01`` is a float, ``[1, 2]`` a
list and ``null`` None.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry
from .validator import ConfigError, check_kwargs, check_type, describe, from_dict, unknown_key
from .yaml_io import load_yaml, parse_yaml

__all__ = [
    "ConfigError",
    "Config",
    "ModelConfig",
    "DataConfig",
    "OptimizerConfig",
    "SchedulerConfig",
    "LossConfig",
    "LoggingConfig",
    "check_kwargs",
    "check_type",
    "from_dict",
    "unknown_key",
    "load_config",
    "load_yaml",
    "apply_overrides",
    "parse_override",
    "parse_yaml",
    "set_dotted",
    "OPTIMIZERS",
    "SCHEDULERS",
    "LOSSES",
]


# Names accepted in configs: the lab's one registry (fit, sweeps and reports read it too).
OPTIMIZERS = registry.OPTIMIZERS
SCHEDULERS = registry.SCHEDULERS
LOSSES = registry.LOSSES


# ----------------------------------------------------------------------------- schema


@dataclass
class ModelConfig:
    """``model: {name: mlp, widths: [784, 300, 100, 10]}`` or just ``model: mnist-cnn``."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Which dataset, where it lives, how it is split and transformed.

    ``name``: a dataset (``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar10-jpeg``,
    ``mnist-sample``, ``fashion-mnist-sample``, ``moons``, ``circles``, ...).
    ``root``: folder holding it (else ``$DEEPGRAD_DATA``, else the download cache).
    ``split``: the split evaluated after training: ``test``, ``val`` or ``none``.
    ``val_split``: held out of the training set for validation: a fraction in (0, 1) or
    an integer count (0: none).
    ``subset`` / ``test_subset``: use only the first N training / test samples.
    ``transforms``: ``{train: [...], test: [...]}``; each item a transform name
    (``RandomHorizontalFlip`` or ``random_horizontal_flip``) or ``{Name: {kwargs}}``.
    ``noise``: std of Gaussian noise added to inputs (denoising autoencoders).
    ``subtract_mean``: ``image`` or ``channel``: after the transforms, subtract the
    training split's mean image (or per-channel mean) from every split, as the
    readers of older course code did (report 000's CIFAR-10 reader: the mean image).
    ``options``: extra keyword arguments for the dataset (toy sets: ``n_samples``, ``noise``).
    """

    name: str
    root: str | None = None
    download: bool = False
    split: str = "test"
    val_split: int | float = 0.0
    subset: int | None = None
    test_subset: int | None = None
    transforms: dict[str, list[Any]] = field(default_factory=dict)
    noise: float = 0.0
    subtract_mean: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    num_workers: int = 0


@dataclass
class OptimizerConfig:
    """``optimizer: {name: adam, lr: 0.001, weight_decay: 0.0}``; other keys go to the optimizer."""

    name: str = "adam"
    lr: float = 1e-3
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class SchedulerConfig:
    """``scheduler: {name: step, step_size: 5, gamma: 0.5}``; ``interval``: epoch or step."""

    name: str
    interval: str = "epoch"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class LossConfig:
    """``loss: cross_entropy`` or ``loss: {name: cross_entropy, label_smoothing: 0.1}``.

    ``l2``: TF1's ``l2_regularizer(l2)`` on every weight matrix and kernel (not biases):
    ``l2 * sum(W**2) / 2`` is added to the loss, so it shows in the logged losses;
    ``optimizer.weight_decay`` instead changes only the update (and decays biases too).
    """

    name: str = "cross_entropy"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoggingConfig:
    """What a run records besides metrics.jsonl and summary.json."""

    progress: bool = True  # progress bars (--quiet turns them off)
    log_every: int = 10  # steps between step records in metrics.jsonl / TensorBoard
    tensorboard: bool = True
    histograms_every: int = 1  # epochs between weight/grad/activation histograms; 0: none
    checkpoint_every: int = 1  # epochs between numbered checkpoints (last/best: every epoch)
    checkpoint_steps: int | None = None  # steps between `last` checkpoints; None: ~every 30 s
    out: str = "runs"  # the folder that receives run folders


@dataclass
class Config:
    """One experiment: everything ``deepgrad train`` needs, nothing it has to guess."""

    model: ModelConfig
    data: DataConfig
    name: str | None = None
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig | None = None
    loss: LossConfig = field(default_factory=LossConfig)
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    metrics: list[str] | None = None  # None: the task's default (accuracy; psnr for autoencoders)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    description: str | None = None

    @property
    def run_name(self) -> str:
        """The run folder prefix: ``name`` if given, else the model name."""
        return self.name or self.model.name

    def to_dict(self) -> dict[str, Any]:
        """Plain types for ``config.yaml``: open-ended kwargs are flattened into their section."""
        out: dict[str, Any] = {
            "name": self.run_name,
            "description": self.description,
            "model": {"name": self.model.name, **self.model.kwargs},
            "data": {k: v for k, v in dataclasses.asdict(self.data).items()},
            "optimizer": {
                "name": self.optimizer.name,
                "lr": self.optimizer.lr,
                **self.optimizer.kwargs,
            },
            "scheduler": None
            if self.scheduler is None
            else {
                "name": self.scheduler.name,
                "interval": self.scheduler.interval,
                **self.scheduler.kwargs,
            },
            "loss": {"name": self.loss.name, **self.loss.kwargs},
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "metrics": None if self.metrics is None else list(self.metrics),
            "logging": dataclasses.asdict(self.logging),
        }
        return out


# ----------------------------------------------------------------------------- loading


def parse_override(text: str) -> tuple[list[str], Any]:
    """``'optimizer.lr=0.01'`` -> (['optimizer', 'lr'], 0.01); the value is a YAML scalar."""
    import yaml

    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. optimizer.lr=0.01")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: empty key; use dotted keys like optimizer.lr=0.01")
    try:
        value = parse_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


_TOP_KEYS = [f.name for f in dataclasses.fields(Config)]
_SECTION_KEYS: dict[str, list[str]] = {
    "data": [f.name for f in dataclasses.fields(DataConfig)],
    "logging": [f.name for f in dataclasses.fields(LoggingConfig)],
}


#: Sections that may be given by name alone (``model: mlp``, ``optimizer: adam``).
SHORTHAND_SECTIONS = ("model", "optimizer", "scheduler", "loss")


def set_dotted(data: dict[str, Any], key: str | list[str], value: Any,
               where: str = "--set") -> None:
    """Set a dotted key (``optimizer.lr``) in a raw config mapping, in place: the one
    setter of ``--set`` overrides and sweep variants.

    A section given by name only (``model: mlp``) becomes ``{name: mlp}`` first, so
    ``model.hidden`` can be added to it; a missing section is created.
    """
    import copy

    path = key.split(".") if isinstance(key, str) else list(key)
    dotted = ".".join(path)
    if not path or not all(path):
        raise ConfigError(f"{where} {dotted!r}: empty part in dotted key; use keys like "
                          "optimizer.lr")
    node = data
    for i, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = {}
        elif isinstance(child, str) and i == 0 and part in SHORTHAND_SECTIONS:
            child = {"name": child}
        elif not isinstance(child, dict):
            raise ConfigError(f"{where} {dotted!r}: {'.'.join(path[: i + 1])} is "
                              f"{describe(child)}, not a section")
        node[part] = child
        node = child
    node[path[-1]] = copy.deepcopy(value)


def check_dotted_key(path: list[str], where: str) -> None:
    """Refuse a dotted key that names no config setting (``optimiser.lr``, ``data.sise``).

    Open sections (model, optimizer, scheduler, loss) take any key here; it is
    checked against the model/optimizer signature when the config is validated.
    """
    head = path[0]
    if head not in _TOP_KEYS:
        raise unknown_key(head, _TOP_KEYS, where)
    if head in _SECTION_KEYS and len(path) > 1 and path[1] not in _SECTION_KEYS[head]:
        raise unknown_key(path[1], _SECTION_KEYS[head], f"{where} {head}")


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides to a raw config mapping (a copy); unknown keys are errors."""
    import copy

    out = copy.deepcopy(data)
    for text in overrides:
        path, value = parse_override(text)
        check_dotted_key(path, "--set")
        set_dotted(out, path, value, "--set")
    return out


def resolve_optimizer(name: str) -> Any:
    """The optimizer class for a config name (``adam``, ``Adam``, ``nadam``...)."""
    try:
        return registry.optimizer_class(name)
    except registry.UnknownName as error:
        raise ConfigError(f"optimizer.name: {error}") from None


def resolve_scheduler(name: str) -> Any:
    """The scheduler class for a config name (``step`` or ``StepLR``)."""
    try:
        return registry.scheduler_class(name)
    except registry.UnknownName as error:
        raise ConfigError(f"scheduler.name: {error}") from None


def resolve_loss(name: str) -> Any:
    """The functional loss for a config name (every name ``fit`` accepts: ``mse``,
    ``cross_entropy``, ``CrossEntropyLoss``, ``bce-with-logits``...)."""
    try:
        return registry.loss(name).fn
    except registry.UnknownName as error:
        raise ConfigError(f"loss.name: {error}") from None


def check_val_split(value: int | float) -> None:
    """A fraction strictly between 0 and 1, or a whole count of samples (0: no validation)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"data.val_split: a count must be >= 0, got {value}")
        return
    if value != 0.0 and not 0.0 < value < 1.0:
        raise ConfigError(f"data.val_split: a fraction must be in (0, 1), got {value} "
                          "(for a number of samples give an integer, e.g. 5000)")


def validate(config: Config, *, deep: bool = True) -> Config:
    """Check what the schema alone cannot: names exist, kwargs fit their signatures, ranges.

    ``deep=False`` skips the checks that import the framework (optimizer classes).
    """
    from deepgrad.lab import zoo

    if config.model.name not in zoo.list_models():
        raise ConfigError(
            f"model.name: unknown model {config.model.name!r}; "
            f"available: {', '.join(zoo.list_models())}"
        )
    spec = zoo.get_spec(config.model.name)
    config.model.kwargs = check_kwargs(config.model.kwargs, spec.builder, "model", label=spec.name)
    if config.epochs < 0:
        raise ConfigError(f"epochs: must be >= 0, got {config.epochs}")
    if not 0 <= config.seed < 2**63:
        raise ConfigError(f"seed: must be an integer in [0, 2**63), got {config.seed}")
    if config.logging.checkpoint_steps is not None and config.logging.checkpoint_steps < 0:
        raise ConfigError(f"logging.checkpoint_steps: must be >= 0 (0: only at epoch ends), "
                          f"got {config.logging.checkpoint_steps}")
    if config.batch_size < 1:
        raise ConfigError(f"batch_size: must be >= 1, got {config.batch_size}")
    if config.optimizer.lr <= 0:
        raise ConfigError(f"optimizer.lr: must be > 0, got {config.optimizer.lr}")
    if config.data.split not in ("test", "val", "none"):
        raise ConfigError(f"data.split: expected test, val or none, got {config.data.split!r}")
    check_val_split(config.data.val_split)
    if config.data.subtract_mean not in (None, "image", "channel"):
        raise ConfigError(f"data.subtract_mean: expected image, channel or null, "
                          f"got {config.data.subtract_mean!r}")
    if config.scheduler is not None and config.scheduler.interval not in ("epoch", "step"):
        raise ConfigError(
            f"scheduler.interval: expected epoch or step, got {config.scheduler.interval!r}"
        )
    resolve_loss(config.loss.name)
    resolve_optimizer(config.optimizer.name)
    for i, metric in enumerate(config.metrics or []):
        try:
            registry.metric(metric)
        except registry.UnknownName as exc:
            raise ConfigError(f"metrics[{i}]: {exc}") from None
    if deep:
        config.optimizer.kwargs = optimizer_args(config)[1]
        if config.scheduler is not None:
            config.scheduler.kwargs = scheduler_args(config)[1]
    return config


def optimizer_args(config: Config) -> tuple[Any, dict[str, Any]]:
    """The optimizer class the config names and its checked keyword arguments."""
    cls = resolve_optimizer(config.optimizer.name)
    return cls, check_kwargs(config.optimizer.kwargs, cls, "optimizer", skip=("params", "lr"),
                             label=config.optimizer.name)


def scheduler_args(config: Config) -> tuple[Any, dict[str, Any]]:
    """The scheduler class the config names and its checked keyword arguments."""
    assert config.scheduler is not None
    cls = resolve_scheduler(config.scheduler.name)
    return cls, check_kwargs(config.scheduler.kwargs, cls, "scheduler", skip=("optimizer",),
                             label=config.scheduler.name)


def load_config(
    source: str | os.PathLike[str] | dict[str, Any],
    overrides: list[str] | None = None,
    *,
    deep: bool = True,
) -> Config:
    """A checked ``Config`` from a YAML path, a zoo model name or a mapping, plus ``--set``s.

    A model name gives that model's default config from the zoo (a short run
    on the embedded sample where there is one).
    """
    from deepgrad.lab import zoo

    if isinstance(source, dict):
        raw = source
    else:
        text = str(source)
        path = Path(text)
        if path.suffix in (".yaml", ".yml") or path.is_file():
            raw = load_yaml(path)
        elif text in zoo.list_models():
            raw = zoo.default_config(text)
        else:
            close = difflib.get_close_matches(text, zoo.list_models(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown model or config {text!r}{hint}; models: {', '.join(zoo.list_models())}"
                "; or give a path to a .yaml file"
            )
    raw = apply_overrides(raw, list(overrides or []))
    config = from_dict(Config, raw)
    return validate(config, deep=deep)
