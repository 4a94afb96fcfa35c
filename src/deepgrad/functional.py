"""``torch.functional``: the tensor functions torch keeps in that module (not ``nn.functional``)."""

from deepgrad.ops.linalg import norm
from deepgrad.ops.shape import chunk, split

__all__ = ["chunk", "norm", "split"]
