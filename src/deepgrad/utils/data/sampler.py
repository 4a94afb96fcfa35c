"""``torch.utils.data.sampler``: the samplers of ``deepgrad.data`` (the same module's names)."""

from deepgrad.data.sampler import *  # noqa: F403 - an alias module
from deepgrad.data.sampler import __all__  # noqa: F401
