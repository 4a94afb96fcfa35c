"""``torch.nn.parallel``: ``DistributedDataParallel`` (it lives in ``deepgrad.distributed``).

Imported lazily: ``deepgrad.distributed`` builds on ``deepgrad.nn``, so it is
reached only when the name is asked for.
"""

from typing import Any

__all__ = ["DistributedDataParallel"]


def __getattr__(name: str) -> Any:
    if name == "DistributedDataParallel":
        from deepgrad.distributed.ddp import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module 'deepgrad.nn.parallel' has no attribute {name!r}")
