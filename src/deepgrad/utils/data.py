"""``torch.utils.data``'s names: the datasets, samplers and the DataLoader of ``deepgrad.data``."""

from deepgrad.data import *  # noqa: F403 - this module is an alias of deepgrad.data
from deepgrad.data import __all__ as _data_all  # noqa: F401
