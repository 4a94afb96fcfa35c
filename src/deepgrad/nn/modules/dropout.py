"""``Dropout`` and ``Dropout2d``: zero a random fraction ``p`` of activations (or of whole
channels) in training, scale the rest."""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class Dropout(Module):
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the
    survivors are scaled by ``1/(1-p)``; in eval mode it is the identity. Draws come
    from the global generator (``deepgrad.manual_seed``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of ``(N, C, H, W)`` feature maps with probability ``p`` (neighbouring
    pixels are correlated, so per-pixel dropout barely regularises a conv layer)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training)


class Dropout1d(Dropout):
    """Zero whole channels of ``(N, C, L)`` sequences (or ``(C, L)``) with probability ``p``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout1d(input, self.p, self.training)


class AlphaDropout(Dropout):
    """Dropout that keeps a SELU network self-normalising (mean 0, variance 1)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.alpha_dropout(input, self.p, self.training)
