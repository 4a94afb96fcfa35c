"""Metrics on arrays: vectorised NumPy, one formula per function, no Python loop over samples.

Every metric takes ``(output, target)`` in that order (torchmetrics' order):
``output`` is what the model returned (class scores ``(N, C)``, one logit
per sample ``(N,)``/``(N, 1)``, predicted labels as ints, or a
reconstruction) and ``target`` the labels or the clean signal. Tensors are
accepted and read without copying (the array they view).

Classification scores become labels by ``argmax`` over classes; a single
score per sample is a binary logit, positive above ``threshold`` (0 for
logits; pass 0.5 for probabilities).

Looking a metric up by name, with the direction it improves in, is the
registry's job: ``deepgrad.lab.registry.get_metric("top3_accuracy")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Metric = Callable[[Any, Any], float]


def _array(x: Any) -> np.ndarray:
    data = getattr(x, "data", x)
    return data if isinstance(data, np.ndarray) else np.asarray(data)


def to_labels(output: Any, threshold: float = 0.0) -> np.ndarray:
    """Predicted class labels ``(N,)`` from scores ``(N, C)``, a binary score, or labels."""
    out = _array(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        flat = out.reshape(len(out))
        if out.dtype.kind in "iub":
            return flat.astype(np.int64, copy=False)
        return (flat > threshold).astype(np.int64)
    raise ValueError(
        f"to_labels: expected scores (N, C), a binary score (N,) or (N, 1), or labels (N,), "
        f"got shape {tuple(out.shape)}"
    )


def _targets(target: Any, n: int, where: str) -> np.ndarray:
    t = _array(target)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    if t.ndim != 1 or len(t) != n:
        raise ValueError(f"{where}: expected targets of shape ({n},), got {tuple(t.shape)}")
    return t.astype(np.int64, copy=False) if t.dtype.kind == "f" else t


def _num_classes(output: Any, preds: np.ndarray, target: np.ndarray, given: int | None) -> int:
    if given is not None:
        return int(given)
    out = _array(output)
    biggest = int(max(preds.max(initial=0), target.max(initial=0))) + 1
    if out.ndim == 2 and out.shape[1] > 1:
        return max(out.shape[1], biggest)  # scores: one column per class
    if out.dtype.kind == "f":
        return max(2, biggest)  # one binary score
    return biggest  # labels


def accuracy(output: Any, target: Any, threshold: float = 0.0) -> float:
    """Fraction of samples whose predicted label equals the target."""
    preds = to_labels(output, threshold)
    t = _targets(target, len(preds), "accuracy")
    if len(preds) == 0:
        return float("nan")
    return float((preds == t).mean())


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target is among the ``k`` highest scores."""
    scores = _array(output)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected scores (N, C), got shape {tuple(scores.shape)}")
    t = _targets(target, len(scores), "top_k_accuracy")
    k = min(int(k), scores.shape[1])
    if k < 1:
        raise ValueError(f"top_k_accuracy: k must be >= 1, got {k}")
    # the target is in the top k when fewer than k classes score strictly higher
    target_score = np.take_along_axis(scores, t[:, None], axis=1)
    higher = (scores > target_score).sum(axis=1)
    return float((higher < k).mean())


def confusion_matrix(output: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``(C, C)`` int64: rows are true classes, columns predicted ones (sklearn's layout)."""
    preds = to_labels(output)
    t = _targets(target, len(preds), "confusion_matrix")
    c = _num_classes(output, preds, t, num_classes)
    if len(t) and (t.min() < 0 or t.max() >= c or preds.min() < 0 or preds.max() >= c):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {c}), got targets "
                         f"{t.min()}..{t.max()} and predictions {preds.min()}..{preds.max()}")
    counts = np.bincount(t * c + preds, minlength=c * c)
    return counts.reshape(c, c).astype(np.int64)


def per_class_accuracy(output: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """Accuracy within each true class ``(C,)`` (the recall of each class); NaN for absent ones."""
    cm = confusion_matrix(output, target, num_classes)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den is 0 (sklearn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(num.shape, np.float64), where=den > 0)


def _reduce(per_class: np.ndarray, average: str | None, where: str) -> Any:
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    raise ValueError(f"{where}: average must be 'macro' or None, got {average!r}")


def precision_recall_f1(
    output: Any, target: Any, num_classes: int | None = None, average: str | None = "macro"
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 per class (``average=None``) or their unweighted mean ("macro").

    A class never predicted has precision 0, a class absent from the targets
    recall 0, as sklearn with ``zero_division=0``.
    """
    cm = confusion_matrix(output, target, num_classes).astype(np.float64)
    tp = np.diag(cm)
    precision = _safe_div(tp, cm.sum(axis=0))
    recall = _safe_div(tp, cm.sum(axis=1))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    where = "precision_recall_f1"
    return (_reduce(precision, average, where), _reduce(recall, average, where),
            _reduce(f1, average, where))


def precision(output: Any, target: Any, num_classes: int | None = None,
              average: str | None = "macro") -> Any:
    """Of the samples predicted as class c, the fraction that are c (macro mean by default)."""
    return precision_recall_f1(output, target, num_classes, average)[0]


def recall(output: Any, target: Any, num_classes: int | None = None,
           average: str | None = "macro") -> Any:
    """Of the samples of class c, the fraction predicted as c (macro mean by default)."""
    return precision_recall_f1(output, target, num_classes, average)[1]


def f1_score(output: Any, target: Any, num_classes: int | None = None,
             average: str | None = "macro") -> Any:
    """Harmonic mean of precision and recall per class (macro mean by default)."""
    return precision_recall_f1(output, target, num_classes, average)[2]


def _pair(output: Any, target: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    out, t = _array(output), _array(target)
    if out.shape != t.shape:
        if out.size == t.size:
            t = t.reshape(out.shape)
        else:
            raise ValueError(f"{where}: output shape {tuple(out.shape)} does not match target "
                             f"{tuple(t.shape)}")
    return out.astype(np.float64, copy=False), t.astype(np.float64, copy=False)


def mse(output: Any, target: Any) -> float:
    """Mean squared error over all elements."""
    out, t = _pair(output, target, "mse")
    return float(np.mean((out - t) ** 2))


def mae(output: Any, target: Any) -> float:
    """Mean absolute error over all elements."""
    out, t = _pair(output, target, "mae")
    return float(np.mean(np.abs(out - t)))


def psnr_per_sample(output: Any, target: Any, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio of each sample in dB: ``10 log10(range^2 / MSE)``."""
    out, t = _pair(output, target, "psnr")
    err = ((out - t) ** 2).reshape(len(out), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / err)


def psnr(output: Any, target: Any, data_range: float = 1.0) -> float:
    """Mean over samples of the per-sample PSNR in dB (inf for a perfect reconstruction)."""
    return float(psnr_per_sample(output, target, data_range).mean())
