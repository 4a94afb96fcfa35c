"""From a config to a finished run folder: model, data, optimizer, scheduler, loss, ``fit``.

``train(config)`` is what ``deepgrad train`` does: it builds everything
the config names, trains with ``deepgrad.lab.fit`` and returns the run
folder. Each ``build_*`` function is usable on its own (a notebook can
take ``build_datasets(config)`` and write its own loop).

Data. Image datasets load as raw uint8 and get ``ToTensor`` (floats in
[0, 1], NCHW) and then the config's transforms. The validation split is
drawn from the training set with a seeded permutation, because some
sources (the CIFAR-10 JPEG copy) are ordered by class; ``subset`` and
``test_subset`` draw the same way. Toy sets (``moons``, ``circles``,
``blobs``, ``spirals``) are generated from ``data.options`` with the run's
seed, and their test set with the next seed. Autoencoders train on
``(noisy, clean)`` pairs: Gaussian noise of std ``data.noise``, clipped to
[0, 1], drawn per batch from the loader's generator (so reproducible).
"""

from __future__ import annotations

import inspect
import os
import re
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

TOY_DATASETS = ("moons", "circles", "blobs", "spirals")
# ``--data-dir`` turns a default run on an embedded sample into one on the full set.
SAMPLE_TO_FULL = {"mnist-sample": "mnist", "fashion-mnist-sample": "fashion-mnist"}
_DATASET_ALIASES = {"cifar10-jpeg": "cifar10", "cifar-10-jpeg": "cifar10"}


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


# ----------------------------------------------------------------------------- data


def _transform_classes() -> dict[str, Any]:
    from deepgrad.data import transforms as T

    names = getattr(T, "__all__", [n for n in dir(T) if n[:1].isupper()])
    return {_norm(n): getattr(T, n) for n in names if inspect.isclass(getattr(T, n, None))}


def _norm(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name).lower()


def build_transform(items: list[Any], where: str) -> list[Any]:
    """Transform objects from config items: ``Name``, ``snake_name`` or ``{Name: {kwargs}}``."""
    classes = _transform_classes()
    out = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        kwargs: Any
        if isinstance(item, str):
            name, kwargs = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, kwargs = next(iter(item.items()))
            kwargs = {} if kwargs is None else kwargs
            if not isinstance(kwargs, dict):
                raise ConfigError(
                    f"{here}: arguments of {name!r} must be a mapping, got {kwargs!r}"
                )
        else:
            raise ConfigError(
                f"{here}: expected a transform name or {{Name: {{args}}}}, got {item!r}"
            )
        cls = classes.get(_norm(str(name)))
        if cls is None or _norm(str(name)) in ("compose", "lambda"):
            allowed = sorted(
                c.__name__ for k, c in classes.items() if k not in ("compose", "lambda")
            )
            raise ConfigError(f"{here}: unknown transform {name!r}; allowed: {', '.join(allowed)}")
        kwargs = check_kwargs(kwargs, cls, here, label=cls.__name__)
        try:
            out.append(cls(**kwargs))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{here} ({cls.__name__}): {exc}") from None
    return out


def _dataset_name(config: Config) -> str:
    name = config.data.name.lower()
    return _DATASET_ALIASES.get(name, name)


def _seeded_perm(n: int, seed: int, salt: int) -> np.ndarray:
    return np.random.default_rng([seed, salt]).permutation(n)


def _count(value: float, n: int, where: str) -> int:
    """A fraction (< 1) or a count (>= 1) of ``n`` samples."""
    k = int(round(value * n)) if 0 < value < 1 else int(value)
    if k < 0 or k >= n:
        raise ConfigError(f"{where}: {value} leaves no training samples out of {n}")
    return k


class DenoisingDataset:
    """``(noisy, clean)`` image pairs for denoising autoencoders; noise drawn per batch."""

    def __init__(self, images: np.ndarray, transform: Any, noise: float) -> None:
        self.images = images
        self.transform = transform
        self.noise = float(noise)
        self.classes: list[str] = []

    def __len__(self) -> int:
        return len(self.images)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from deepgrad.data.rng import current_generator

        clean = self.transform(self.images[indices])
        clean = np.asarray(getattr(clean, "data", clean), dtype=np.float32)
        if self.noise > 0:
            noise = current_generator().normal(0.0, self.noise, clean.shape)
            noisy = np.clip(clean + noise.astype(np.float32), 0.0, 1.0)
        else:
            noisy = clean.copy()
        return noisy, clean

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.get_batch(np.array([index]))
        return x[0], y[0]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.images, self.images


def _image_splits(config: Config, task: str) -> tuple[Any, Any, Any, list[str]]:
    from deepgrad.data import ArrayDataset, load_dataset
    from deepgrad.data import transforms as T

    name = _dataset_name(config)
    data = config.data
    for key in config.data.transforms:
        if key not in ("train", "test"):
            raise ConfigError(f"unknown key {key!r} in data.transforms; allowed: test, train")
    train_extra = build_transform(list(data.transforms.get("train", [])), "data.transforms.train")
    test_extra = build_transform(list(data.transforms.get("test", [])), "data.transforms.test")
    train_tf = T.Compose([T.ToTensor(), *train_extra])
    test_tf = T.Compose([T.ToTensor(), *test_extra])
    if data.options:
        raise ConfigError(f"data.options: dataset {data.name!r} takes no options")

    base = load_dataset(name, train=True, root=data.root, download=data.download)
    x, y = base.arrays()
    classes = list(getattr(base, "classes", []) or [])
    n = len(x)
    perm = _seeded_perm(n, config.seed, 1)
    n_val = _count(data.val_split, n, "data.val_split") if data.val_split else 0
    val_idx, train_idx = np.sort(perm[:n_val]), perm[n_val:]
    if data.subset is not None:
        if data.subset < 1:
            raise ConfigError(f"data.subset: must be >= 1, got {data.subset}")
        train_idx = train_idx[: data.subset]
    train_idx = np.sort(train_idx)

    test_x = test_y = None
    if data.split == "test":
        test = load_dataset(name, train=False, root=data.root, download=data.download)
        test_x, test_y = test.arrays()
        if data.test_subset is not None:
            pick = np.sort(_seeded_perm(len(test_x), config.seed, 2)[: data.test_subset])
            test_x, test_y = test_x[pick], test_y[pick]

    def make(images: np.ndarray, labels: np.ndarray, tf: Any) -> Any:
        if task == "autoencoder":
            return DenoisingDataset(images, tf, data.noise)
        ds = ArrayDataset(images, labels, transform=tf)
        ds.classes = classes
        return ds

    train_ds = make(x[train_idx], y[train_idx], train_tf)
    val_ds = make(x[val_idx], y[val_idx], test_tf) if n_val else None
    test_ds = make(test_x, test_y, test_tf) if test_x is not None and test_y is not None else None
    if data.split == "val":
        test_ds = None
    return train_ds, val_ds, test_ds, classes


def _toy_splits(config: Config) -> tuple[Any, Any, Any, list[str]]:
    from deepgrad import data as D
    from deepgrad.data import ArrayDataset

    name = _dataset_name(config)
    fn = getattr(D, f"make_{name}")
    options = dict(config.data.options)
    n_test = options.pop("n_test", None)
    options = check_kwargs(options, fn, "data.options", skip=("random_state",), label=name)
    if config.data.transforms:
        raise ConfigError(f"data.transforms: the toy set {name!r} takes no transforms")

    def make(seed: int, n: int | None) -> tuple[np.ndarray, np.ndarray]:
        kw = dict(options)
        if n is not None:
            kw["n_samples"] = n
        X, y = fn(random_state=seed, **kw)
        return np.asarray(X, np.float32), np.asarray(y, np.int64)

    X, y = make(config.seed, None)
    perm = _seeded_perm(len(X), config.seed, 1)
    n_val = _count(config.data.val_split, len(X), "data.val_split") if config.data.val_split else 0
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if config.data.subset is not None:
        train_idx = train_idx[: config.data.subset]
    classes = [str(c) for c in range(int(y.max()) + 1)]

    def ds(a: np.ndarray, b: np.ndarray) -> Any:
        out = ArrayDataset(a, b)
        out.classes = classes
        return out

    train_ds = ds(X[train_idx], y[train_idx])
    val_ds = ds(X[val_idx], y[val_idx]) if n_val else None
    test_ds = None
    if config.data.split == "test":
        Xt, yt = make(config.seed + 1, n_test)
        if config.data.test_subset is not None:
            Xt, yt = Xt[: config.data.test_subset], yt[: config.data.test_subset]
        test_ds = ds(Xt, yt)
    return train_ds, val_ds, test_ds, classes


def build_datasets(config: Config) -> tuple[Any, Any, Any, list[str]]:
    """``(train, val, test, class_names)``; val/test are None when not asked for."""
    from . import zoo

    task = zoo.get_spec(config.model.name).task
    name = _dataset_name(config)
    if name in TOY_DATASETS:
        return _toy_splits(config)
    from deepgrad.data import DATASET_NAMES

    if name not in DATASET_NAMES:
        known = sorted({*DATASET_NAMES, *TOY_DATASETS, *_DATASET_ALIASES})
        raise ConfigError(
            f"data.name: unknown dataset {config.data.name!r}; known: {', '.join(known)}"
        )
    return _image_splits(config, task)


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


def build_loss(config: Config) -> Any:
    """The loss for ``fit``: its canonical name, or a function when the config gives arguments."""
    fn = resolve_loss(config.loss.name)
    kwargs = check_kwargs(
        config.loss.kwargs, fn, "loss", skip=("input", "target"), label=config.loss.name
    )
    if not kwargs:
        return fn.__name__  # a name lets fit infer the task and label the run

    def loss(output: Any, target: Any) -> Any:
        return fn(output, target, **kwargs)

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
        loss=build_loss(config),
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
    quiet: bool | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    distributed: bool = False,
) -> Path:
    """Train what ``config`` describes and return the run folder.

    ``config`` may be a ``Config``, a YAML path, a zoo model name or a mapping.
    ``resume`` continues a stopped run folder from its last checkpoint (the
    folder's own config is used; ``config`` is ignored then). ``callbacks`` go
    to ``fit`` (a sweep's Optuna pruning uses this). ``distributed`` trains
    data-parallel over the ranks of the MPI job (``mpirun -n N``).
    """
    if resume is not None:
        return _resume(Path(resume), quiet=quiet, callbacks=callbacks, distributed=distributed)
    if not isinstance(config, Config):
        config = load_config(config, overrides)
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


def _resume(run_dir: Path, *, quiet: bool | None, callbacks: Any = (),
            distributed: bool = False) -> Path:
    from .config import load_yaml

    folder = RunFolder(run_dir)
    if not folder.config.is_file():
        raise ConfigError(f"--resume {run_dir}: not a run folder (no {RunFolder.CONFIG})")
    config = load_config(load_yaml(folder.config))
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

    from .config import load_yaml

    folder = RunFolder(run_dir)
    config = load_config(load_yaml(folder.config))
    if data_dir is not None:
        config.data.root = str(data_dir)
        config.data.name = SAMPLE_TO_FULL.get(config.data.name, config.data.name)
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
