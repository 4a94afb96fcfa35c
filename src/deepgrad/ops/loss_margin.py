"""torch's ranking, margin and likelihood losses, written with deepgrad's differentiable ops:
``margin_ranking_loss``, ``hinge_embedding_loss``, ``soft_margin_loss``,
``multilabel_soft_margin_loss``, ``cosine_embedding_loss``, ``triplet_margin_loss``
(and ``..._with_distance_loss``), ``multi_margin_loss``, ``gaussian_nll_loss``,
``poisson_nll_loss``. The formulas are torch's, term for term."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad.ops import activation as A
from deepgrad.ops import elementwise as E
from deepgrad.ops import reduce as R
from deepgrad.ops import shape as S
from deepgrad.ops.composite import floor_in_value, logsigmoid, pairwise_distance
from deepgrad.ops.creation import full_like
from deepgrad.tensor import Tensor

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "gaussian_nll_loss",
           "poisson_nll_loss"]


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction} is not a valid value for reduction "
                     "('none', 'mean' or 'sum')")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: y = 1 wants x1 ranked above x2."""
    return _reduce(A.relu(-target * (input1 - input2) + margin), reduction,
                   "margin_ranking_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1 (x a distance)."""
    below = E.where(target != 1, A.relu(margin - input), 0.0)
    return _reduce(below + E.where(target != -1, input, 0.0), reduction, "hinge_embedding_loss")


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``log(1 + exp(-y x))``: a smooth two-class hinge."""
    return _reduce(A.softplus(-target * input), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of each label's logit, averaged over the labels of a sample."""
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    per_sample = R.sum(loss, input.ndim - 1) / input.shape[-1]
    return _reduce(per_sample, reduction, "multilabel_soft_margin_loss")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1."""
    tiny = 1e-12
    dim = input1.ndim - 1
    dot = R.sum(input1 * input2, dim)
    norms = E.sqrt((R.sum(input1 * input1, dim) + tiny) * (R.sum(input2 * input2, dim) + tiny))
    cos = dot / norms
    loss = E.where(target == 1, 1 - cos, 0.0) + E.where(target == -1, A.relu(cos - margin), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def triplet_margin_with_distance_loss(
        anchor: Tensor, positive: Tensor, negative: Tensor, *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))``; ``swap`` uses ``d(p, n)`` when it is smaller."""
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater "
                         f"than 0, got {margin} instead")
    distance = distance_function or pairwise_distance
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, distance(positive, negative))
    return _reduce(A.relu(margin + d_pos - d_neg), reduction, "triplet_margin_loss")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """The triplet loss with the ``p``-norm distance (``pairwise_distance``)."""
    def distance(a: Tensor, b: Tensor) -> Tensor:
        return pairwise_distance(a, b, p, eps)
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, distance(positive, negative))
    return _reduce(A.relu(margin + d_pos - d_neg), reduction, "triplet_margin_loss")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Tensor | None = None, size_average: Any = None,
                      reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge: ``sum_{i != y} max(0, margin - x[y] + x[i])^p / C``."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p}")
    x = input if input.ndim == 2 else S.unsqueeze(input, 0)
    labels = target._array.reshape(-1)
    classes = x.shape[1]
    picked = S.getitem(x, (np.arange(x.shape[0]), labels))           # (N,)
    hinge = A.relu(margin - S.unsqueeze(picked, 1) + x)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * S.unsqueeze(S.getitem(weight, labels), 1)
    others = Tensor(np.arange(classes)[None, :] != labels[:, None], _copy=False)
    loss = R.sum(E.where(others, hinge, 0.0), 1) / classes
    if input.ndim == 1:
        loss = S.reshape(loss, ())
    return _reduce(loss, reduction, "multi_margin_loss")


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var): ``(log var + (x - y)^2 /
    var) / 2`` (+ ``log(2 pi) / 2`` with ``full``); ``var`` is floored at ``eps`` in value
    only, as torch does."""
    if not isinstance(var, Tensor):
        var = full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = S.unsqueeze(var, -1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if bool((var._array < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = floor_in_value(var, eps)
    loss = 0.5 * (E.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average: Any = None, eps: float = 1e-8,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of counts ``target`` under Poisson(rate): ``exp(x) - y x``
    for log rates, ``x - y log(x + eps)`` for rates; ``full`` adds Stirling's term."""
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        big = target > 1
        safe = E.where(big, target, 1.0)
        stirling = safe * E.log(safe) - safe + 0.5 * E.log(2 * math.pi * safe)
        loss = loss + E.where(big, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")
