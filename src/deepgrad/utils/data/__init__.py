"""``torch.utils.data``'s names: the datasets, samplers and the DataLoader of ``deepgrad.data``."""

from deepgrad.data import *  # noqa: F403 - this package is an alias of deepgrad.data
from deepgrad.utils.data import dataloader, dataset, distributed, sampler  # noqa: F401
