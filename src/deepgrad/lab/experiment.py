"""From a config to a finished run folder: model, data, optimizer, scheduler, loss, ``fit``.

``train(config)`` is what ``deepgrad train`` does: it builds everything
the config names, trains with ``deepgrad.lab.fit`` and returns the run
folder. Each ``build_*`` function is usable on its own (a notebook can
take ``build_datasets(config)`` and write its own loop).

The data part (transforms, datasets, splits) is ``config_data``.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import (
    Config,
    ConfigError,
    check_kwargs,
    load_config,
    optimizer_args,
    resolve_loss,
    scheduler_args,
)
from .config_data import SAMPLE_TO_FULL, TOY_DATASETS, build_datasets
from .fingerprint import CheckpointMismatch, check_fingerprint, model_fingerprint
from .run_folder import RunFolder

__all__ = [
    "Experiment",
    "build_model",
    "build_datasets",
    "build_optimizer",
    "build_scheduler",
    "build_loss",
    "build",
    "train",
    "TOY_DATASETS",
    "SAMPLE_TO_FULL",
]



@dataclass
class Experiment:
    """Everything one run needs, built from a config."""

    config: Config
    model: Any
    train_data: Any
    val_data: Any
    test_data: Any
    loss: Any
    optimizer: Any
    scheduler: Any
    task: str
    class_names: list[str]


# ----------------------------------------------------------------------------- model


def build_model(config: Config) -> Any:
    """The zoo model the config names, with its keyword arguments."""
    from . import zoo

    spec = zoo.get_spec(config.model.name)
    kwargs = check_kwargs(config.model.kwargs, spec.builder, "model", label=spec.name)
    try:
        return spec.builder(**kwargs)
    except ValueError as exc:  # the builders' own checks (bad widths, activation ...)
        raise ConfigError(str(exc)) from None


# ----------------------------------------------------------------------------- training parts


def build_optimizer(config: Config, model: Any) -> Any:
    """The optimizer over the model's parameters."""
    cls, kwargs = optimizer_args(config)
    try:
        return cls(model.parameters(), lr=config.optimizer.lr, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"optimizer ({config.optimizer.name}): {exc}") from None


def build_scheduler(config: Config, optimizer: Any, steps_per_epoch: int) -> Any:
    """The learning-rate scheduler, or None. ``OneCycleLR`` gets its step counts filled in."""
    if config.scheduler is None:
        return None
    cls, kwargs = scheduler_args(config)
    params = inspect.signature(cls.__init__).parameters
    if "total_steps" in params and "total_steps" not in kwargs and "epochs" not in kwargs:
        kwargs["total_steps"] = max(config.epochs * steps_per_epoch, 1)
    if "T_max" in params and "T_max" not in kwargs:
        per = steps_per_epoch if config.scheduler.interval == "step" else 1
        kwargs["T_max"] = max(config.epochs * per, 1)
    try:
        return cls(optimizer, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"scheduler ({config.scheduler.name}): {exc}") from None


def build_loss(config: Config, model: Any = None) -> Any:
    """The loss for ``fit``: its canonical name, or a function when the config gives
    arguments. ``loss.l2`` adds TF1's ``l2_regularizer``: ``l2 * sum(W**2) / 2`` over the
    model's weight matrices and kernels (parameters of 2 or more dimensions; not biases)."""
    fn = resolve_loss(config.loss.name)
    options = dict(config.loss.kwargs)
    l2 = options.pop("l2", 0.0)
    if not isinstance(l2, (int, float)) or isinstance(l2, bool) or l2 < 0:
        raise ConfigError(f"loss.l2: expected a number >= 0, got {l2!r}")
    kwargs = check_kwargs(options, fn, "loss", skip=("input", "target"), label=config.loss.name)
    weights = []
    if l2:
        if model is None:
            raise ConfigError("loss.l2: needs the model (build_loss(config, model))")
        weights = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    if not kwargs and not weights:
        return fn.__name__  # a name lets fit infer the task and label the run

    def loss(output: Any, target: Any) -> Any:
        value = fn(output, target, **kwargs)
        if weights:
            penalty = sum((w * w).sum() for w in weights)
            value = value + (0.5 * float(l2)) * penalty
        return value

    loss.__name__ = getattr(fn, "__name__", config.loss.name)
    return loss


def build(config: Config) -> Experiment:
    """Every part of a run, seeded: the same config builds the same initial weights."""
    import deepgrad

    from . import zoo

    deepgrad.manual_seed(config.seed)
    model = build_model(config)
    train_ds, val_ds, test_ds, classes = build_datasets(config)
    optimizer = build_optimizer(config, model)
    steps = max(-(-len(train_ds) // config.batch_size), 1)
    scheduler = build_scheduler(config, optimizer, steps)
    return Experiment(
        config=config,
        model=model,
        train_data=train_ds,
        val_data=val_ds,
        test_data=test_ds,
        loss=build_loss(config, model),
        optimizer=optimizer,
        scheduler=scheduler,
        task=zoo.get_spec(config.model.name).task,
        class_names=classes,
    )


# ----------------------------------------------------------------------------- train


def train(
    config: Config | str | os.PathLike[str] | dict[str, Any],
    *,
    overrides: list[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    quiet: bool | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    distributed: bool = False,
) -> Path:
    """Train what ``config`` describes and return the run folder.

    ``config`` may be a ``Config``, a YAML path, a zoo model name or a mapping.
    ``resume`` continues a stopped run folder from its last checkpoint (the
    folder's own config is used; ``config`` is ignored then). ``data_dir`` is
    where the data set is (see ``use_data_dir``); on resume it only says where
    the run's own data set is now. ``callbacks`` go to ``fit`` (a sweep's
    Optuna pruning uses this). ``distributed`` trains data-parallel over the
    ranks of the MPI job (``mpirun -n N``).
    """
    if resume is not None:
        return _resume(Path(resume), data_dir=data_dir, quiet=quiet, callbacks=callbacks,
                       distributed=distributed)
    if not isinstance(config, Config):
        config = load_config(config, overrides)
    if data_dir is not None:
        use_data_dir(config, data_dir)
    if out is not None:
        config.logging.out = str(out)
    if quiet is not None:
        config.logging.progress = not quiet
    exp = build(config)
    return _fit(exp, callbacks=callbacks, distributed=distributed)


def _fit(exp: Experiment, resume: Path | None = None, callbacks: Any = (),
         distributed: bool = False) -> Path:
    """Hand the built experiment to ``deepgrad.lab.fit`` with the config's logging choices."""
    from .fit import fit

    cfg = exp.config
    log = cfg.logging
    history = fit(
        exp.model,
        exp.train_data,
        exp.val_data,
        loss=exp.loss,
        optimizer=exp.optimizer,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        scheduler=exp.scheduler,
        metrics=cfg.metrics,
        seed=cfg.seed,
        test_data=exp.test_data,
        resume=resume,
        callbacks=list(callbacks),
        runs_root=None if resume is not None else log.out,
        name=cfg.run_name,
        config=cfg.to_dict(),
        task=exp.task,
        class_names=exp.class_names or None,
        scheduler_interval=cfg.scheduler.interval if cfg.scheduler else "epoch",
        checkpoint_every_epochs=log.checkpoint_every,
        checkpoint_every_steps=log.checkpoint_steps,
        log_every_steps=log.log_every,
        histograms_every_epochs=log.histograms_every,
        tensorboard=log.tensorboard,
        verbose=1 if log.progress else 0,
        num_workers=cfg.data.num_workers,
        distributed=distributed,
    )
    folder = getattr(history, "run_dir", None)
    if folder is None:
        raise RuntimeError("fit did not report its run folder")
    return Path(folder)


def use_data_dir(config: Config, data_dir: str | os.PathLike[str], *,
                 switch_sample: bool = True) -> None:
    """Read the data set from folder ``data_dir``: ``data.root``, and a packaged sample
    (``mnist-sample``) switched to its full data set unless ``switch_sample`` is false
    (a resumed run must go on with the data it started with: there it is an error)."""
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"--data-dir {data_dir}: no such folder")
    if config.data.name in SAMPLE_TO_FULL and not switch_sample:
        raise ConfigError(f"--data-dir {data_dir}: this run trained on the packaged sample "
                          f"{config.data.name!r}, which is read from no folder; resume it "
                          "without --data-dir")
    config.data.root = str(folder)
    config.data.name = SAMPLE_TO_FULL.get(config.data.name, config.data.name)


def _resume(run_dir: Path, *, data_dir: str | os.PathLike[str] | None = None,
            quiet: bool | None, callbacks: Any = (), distributed: bool = False) -> Path:
    from .yaml_io import load_yaml

    folder = RunFolder(run_dir)
    if not folder.config.is_file():
        raise ConfigError(f"--resume {run_dir}: not a run folder (no {RunFolder.CONFIG})")
    config = load_config(load_yaml(folder.config))
    if data_dir is not None:  # the data moved (another machine, a cluster's scratch)
        use_data_dir(config, data_dir, switch_sample=False)
    if quiet is not None:
        config.logging.progress = not quiet
    exp = build(config)
    return _fit(exp, resume=run_dir, callbacks=callbacks, distributed=distributed)


# ----------------------------------------------------------------------------- evaluate


def _load_first(paths: list[Path]) -> tuple[Path, Any]:
    """The first checkpoint of ``paths`` that loads; a damaged one is named on stderr and
    the next is tried (``best`` damaged: ``last``); the last one's error is raised."""
    import sys

    import deepgrad
    from deepgrad.serialization import CheckpointError

    for i, path in enumerate(paths):
        try:
            return path, deepgrad.load(path)
        except (CheckpointError, OSError) as error:
            if i == len(paths) - 1:
                raise
            print(f"deepgrad: warning: {str(error).splitlines()[0]}; using {paths[i + 1]}",
                  file=sys.stderr)
    raise AssertionError("unreachable: paths is not empty")


def evaluate_run(
    run_dir: str | os.PathLike[str],
    *,
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    checkpoint: str = "best",
) -> dict[str, Any]:
    """Rebuild a run's model and data from its folder, load a checkpoint, evaluate one split.

    ``checkpoint``: ``best`` (falls back to ``last`` when the run kept no best) or ``last``.
    Returns ``{"<split>_loss": ..., "<split>_<metric>": ..., "checkpoint": name, "n": count}``.
    """

    from .yaml_io import load_yaml

    folder = RunFolder(run_dir)
    config = load_config(load_yaml(folder.config))
    if data_dir is not None:
        use_data_dir(config, data_dir)
    if split == "test":
        config.data.split = "test"
    names = [checkpoint, "last"] if checkpoint == "best" else [checkpoint]
    paths = [folder.checkpoint(n) for n in names if folder.checkpoint(n).is_file()]
    if not paths:
        raise ConfigError(f"{folder.path}: no {checkpoint} checkpoint in {folder.checkpoints}")
    exp = build(config)
    path, state = _load_first(paths)
    if "model" in state:
        check_fingerprint(state.get("fingerprint"),
                          model_fingerprint(exp.model, config.to_dict()["model"]), str(path))
    try:
        exp.model.load_state_dict(state["model"] if "model" in state else state)
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointMismatch(f"{path} does not fit the model {config.model.name} built "
                                 f"from {folder.config}: {str(error).splitlines()[0]}") from None
    data = {"test": exp.test_data, "val": exp.val_data, "train": exp.train_data}[split]
    if data is None:
        raise ConfigError(f"{folder}: the run has no {split} split (see data.val_split)")
    from .fit import evaluate

    results = evaluate(
        exp.model,
        data,
        loss=exp.loss,
        metrics=config.metrics,
        batch_size=max(config.batch_size, 256),
        task=exp.task,
    )
    out: dict[str, Any] = {}
    for key, value in dict(results).items():
        name = key if key.startswith(f"{split}_") else f"{split}_{key}"
        out[name] = float(value) if isinstance(value, (int, float, np.floating)) else value
    out["checkpoint"] = path.stem
    out["n"] = len(data)
    return out
