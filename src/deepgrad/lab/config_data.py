"""The data a config names: transforms, datasets and their splits.

Image datasets load as raw uint8 and get ``ToTensor`` (floats in [0, 1], NCHW) and
then the config's transforms. The validation split is drawn from the training set
with a seeded permutation, because some sources (the CIFAR-10 JPEG copy) are ordered
by class; ``subset`` and ``test_subset`` draw the same way. Toy sets (``moons``,
``circles``, ``blobs``, ``spirals``) are generated from ``data.options`` with the
run's seed, and their test set with the next seed. Autoencoders train on
``(noisy, clean)`` pairs: Gaussian noise of std ``data.noise``, clipped to [0, 1],
drawn per batch from the loader's generator (so reproducible). ``subtract_mean``
centres every split on the training split's mean image or channel means.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from .config import Config, ConfigError, check_kwargs

__all__ = ["build_datasets", "build_transform", "TOY_DATASETS", "SAMPLE_TO_FULL",
           "DenoisingDataset"]

TOY_DATASETS = ("moons", "circles", "blobs", "spirals")
# ``--data-dir`` turns a default run on an embedded sample into one on the full set.
SAMPLE_TO_FULL = {"mnist-sample": "mnist", "fashion-mnist-sample": "fashion-mnist"}
_DATASET_ALIASES = {"cifar10-jpeg": "cifar10", "cifar-10-jpeg": "cifar10"}


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


def _train_mean(images: np.ndarray, transform: Any, per_channel: bool,
                chunk: int = 2048) -> np.ndarray:
    """The mean image (C,H,W) of the training images after the deterministic (test)
    transforms, or its per-channel mean (C,1,1); summed in float64, a chunk at a time."""
    total: np.ndarray | None = None
    for start in range(0, len(images), chunk):
        batch = np.asarray(transform(images[start:start + chunk]), dtype=np.float64)
        part = batch.sum(axis=0)
        total = part if total is None else total + part
    if total is None:
        raise ConfigError("data.subtract_mean: the training split is empty")
    mean = total / len(images)
    if per_channel and mean.ndim == 3:
        mean = mean.mean(axis=(1, 2), keepdims=True)
    return mean.astype(np.float32)


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

    if data.subtract_mean:
        mean = _train_mean(x[train_idx], test_tf, per_channel=data.subtract_mean == "channel")
        train_tf.transforms.append(T.SubtractMean(mean))
        test_tf.transforms.append(T.SubtractMean(mean))
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
