"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, the
layers (one family per file in ``modules/``), ``functional`` (``F``), ``init`` and
``utils``. ``deepgrad.nn.Conv2d(1, 32, 5, padding=2)`` is ``torch.nn.Conv2d(...)``."""

from deepgrad.nn import functional, init, modules, parallel, utils  # parallel: distributed, lazily
from deepgrad.nn.module import Module, RemovableHandle
from deepgrad.nn.modules import *  # noqa: F403 - every layer, as torch.nn has them
from deepgrad.nn.parameter import Buffer, Parameter

__all__ = ["functional", "init", "utils", "parallel", "Module", "RemovableHandle", "Parameter",
           "Buffer", *modules.__all__]
