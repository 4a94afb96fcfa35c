"""Distances between two batches of vectors, as modules: ``CosineSimilarity``,
``PairwiseDistance`` (``F.cosine_similarity``, ``F.pairwise_distance``)."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class CosineSimilarity(Module):
    """``x1 . x2 / (||x1|| ||x2||)`` along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` along the last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
