"""Embedding lookup: rows of a weight table picked by integer ids.

The backward adds each output row's gradient into the row of its id; ids repeat,
so it is a scatter-add. Done by sorting the ids once and summing each run of equal
ids with ``np.add.reduceat`` (vectorised, float32 stays float32), not ``np.add.at``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.autograd import Context, Function
from deepgrad.tensor import Tensor


class Embedding(Function):
    @staticmethod
    def forward(ctx: Context, weight: Any, *, ids: Any, padding_idx: int | None,
                scale_grad_by_freq: bool) -> Any:
        ctx.ids, ctx.num, ctx.padding_idx = ids, weight.shape[0], padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return weight[ids]

    @staticmethod
    def decomposition(weight: Tensor, *, ids: Any, padding_idx: int | None,
                      scale_grad_by_freq: bool) -> Tensor:
        """Row lookup by indexing, for a graph-building backward; the padding row's and the
        frequency scaling's effect on the gradient as constant factors."""
        rows = weight[ids]
        factor = np.ones(ids.shape, dtype=weight.dtype)
        if scale_grad_by_freq:
            unique, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
            factor = factor / counts[inverse.reshape(ids.shape)]
        if padding_idx is not None:
            factor = factor * (ids != padding_idx)
        if scale_grad_by_freq or padding_idx is not None:
            rows = rows * factor[..., None]
        return rows

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        ids = ctx.ids.reshape(-1)
        rows = grad.reshape(ids.size, -1)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        gw = np.zeros((ctx.num, rows.shape[1]), dtype=grad.dtype)
        if ids.size:
            unique = sorted_ids[starts]
            sums = np.add.reduceat(rows[order], starts, axis=0)
            if ctx.scale_grad_by_freq:
                counts = np.diff(np.r_[starts, ids.size])
                sums /= counts[:, None].astype(grad.dtype)
            gw[unique] = sums
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return (gw,)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """torch's ``F.embedding``: ``weight[input]``; the ``padding_idx`` row gets no gradient.
    With ``max_norm``, looked-up rows longer than it are rescaled in place first (as torch).
    ``sparse`` is accepted; the gradient is always dense."""
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: input must be an integer tensor of ids, got {kind}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                           f"got shape {tuple(weight.shape)}")
    num = weight.shape[0]
    ids = input._array
    if ids.size and (ids.min() < 0 or ids.max() >= num):
        bad = int(ids[(ids < 0) | (ids >= num)].reshape(-1)[0])
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table "
                         f"of {num} rows (valid ids are 0..{num - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None:
        with autograd.no_grad():
            used = np.unique(ids)
            norms = np.linalg.norm(weight._array[used], ord=norm_type, axis=1)
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            weight._array[used] *= scale[:, None].astype(weight.dtype)
    return Embedding.apply(weight, ids=ids, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)
