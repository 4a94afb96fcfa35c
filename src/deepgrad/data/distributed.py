"""``DistributedSampler``: each rank's share of the dataset, for data-parallel training.

torch's ``torch.utils.data.distributed.DistributedSampler``, argument for
argument. Every rank draws the *same* permutation — a pure function of
``(seed, epoch)``, not of any rank's generator, so ranks seeded
differently (for dropout) still agree — and takes every ``num_replicas``-th
index of it from position ``rank`` on. Without ``drop_last`` the order is
padded with its own first indices to a multiple of ``num_replicas`` (some
samples are seen twice an epoch); with it the tail is dropped. Call
``set_epoch(epoch)`` at the start of each epoch, as in torch, or every
epoch repeats the first one's order.

Determinism. The shards of one step of ``num_replicas`` ranks with batch
``b`` are, together, exactly the batch ``num_replicas * b`` that one
process reads with ``num_replicas=1`` (the same permutation, read in
order), which is what lets a distributed run be checked against one
process. The DataLoader resumes it mid-epoch like any deterministic
sampler (it replays the epoch's index batches), given the same epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from .sampler import Sampler, _is_int

__all__ = ["DistributedSampler"]


def _from_group(what: str) -> int:
    from deepgrad import distributed

    if not distributed.is_available() or not distributed.is_initialized():
        raise RuntimeError(f"DistributedSampler: {what} not given and no process group is "
                           "initialized; call deepgrad.distributed.init_process_group() first "
                           f"or pass {what}= explicitly")
    return (distributed.get_world_size() if what == "num_replicas"
            else distributed.get_rank())


class DistributedSampler(Sampler[int]):
    """This rank's indices of ``dataset``: ``len(self) == num_samples`` per epoch."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _from_group("num_replicas")
        if rank is None:
            rank = _from_group("rank")
        if not _is_int(num_replicas) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not _is_int(rank) or rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        if not _is_int(seed):
            raise TypeError(f"DistributedSampler: seed must be an int, got {seed!r}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = bool(shuffle)
        self.seed = int(seed)

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                order = np.concatenate([order, np.resize(order, padding)])
        else:
            order = order[: self.total_size]
        assert order.size == self.total_size
        shard = order[self.rank : self.total_size : self.num_replicas]
        assert shard.size == self.num_samples
        return iter(shard.tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s permutation from the next ``iter`` on (all ranks alike)."""
        if not _is_int(epoch) or epoch < 0:
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be a non-negative int, "
                             f"got {epoch!r}")
        self.epoch = int(epoch)
