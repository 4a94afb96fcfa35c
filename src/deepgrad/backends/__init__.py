"""``deepgrad.backends``: torch's backend switches (``mps``, ``cudnn``), none of them present."""

from deepgrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
