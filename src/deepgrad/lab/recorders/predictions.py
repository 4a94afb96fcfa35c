"""The end-of-run files: ``predictions.npz`` (classifier or autoencoder) and
``activations.npz``; their keys are listed in docs/run-folder.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad.lab.probes import capture_activations
from deepgrad.lab.runs import write_npz
from deepgrad.tensor import Tensor

from .boundary import class_probs


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


def gallery_indices(probs: np.ndarray, targets: np.ndarray, k: int = 64,
                    per_cell: int = 16) -> np.ndarray:
    """The rows whose images ``predictions.npz`` keeps: the ``k`` most confidently wrong, then
    up to ``per_cell`` more wrong ones of every (true, predicted) pair not yet covered, most
    confident first (so the report's confusion matrix can show any cell's mistakes), then
    the ``k`` least confident correct ones. At 28 x 28 pixels and 10 classes that is at most
    64 + 90 x 16 + 64 images, 1.2 MB raw, compressed in the npz."""
    preds = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(preds != targets)
    right = np.flatnonzero(preds == targets)
    ranked = wrong[np.argsort(-confidence[wrong], kind="stable")]
    worst = ranked[:k]
    taken = set(worst.tolist())
    per: dict[tuple[int, int], int] = {}
    for i in worst:
        cell = (int(targets[i]), int(preds[i]))
        per[cell] = per.get(cell, 0) + 1
    extra = []
    for i in ranked[k:]:
        cell = (int(targets[i]), int(preds[i]))
        if per.get(cell, 0) < per_cell and int(i) not in taken:
            per[cell] = per.get(cell, 0) + 1
            extra.append(int(i))
    unsure = right[np.argsort(confidence[right], kind="stable")[:k]]
    return np.concatenate([worst, np.asarray(extra, dtype=np.int64), unsure]).astype(np.int64)


def classification_arrays(outputs: np.ndarray, targets: np.ndarray,
                          class_names: list[str] | None, dataset: Any = None,
                          k: int = 64) -> dict[str, np.ndarray]:
    """The classifier part of ``predictions.npz`` (see docs/run-folder.md)."""
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
    from deepgrad.lab.metrics import psnr_per_sample

    x, y, out = (np.asarray(a[:n], dtype=np.float32) for a in (inputs, targets, outputs))
    mse = ((out.reshape(len(out), -1) - y.reshape(len(y), -1)) ** 2).mean(axis=1)
    return {"clean": _as_images01(y), "noisy": _as_images01(x), "recon": _as_images01(out),
            "mse": mse.astype(np.float32),
            "psnr": psnr_per_sample(out, y.reshape(out.shape)).astype(np.float32)}


def write_predictions(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    write_npz(path, arrays)
