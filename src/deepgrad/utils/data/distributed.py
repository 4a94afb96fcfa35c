"""``torch.utils.data.distributed``: deepgrad's ``DistributedSampler``."""

from deepgrad.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
