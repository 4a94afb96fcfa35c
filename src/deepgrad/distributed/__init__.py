"""Data-parallel training on MPI: ``torch.distributed``'s names on mpi4py.

Launch N copies of a script with ``mpirun -n N python train.py`` (or
``srun``), then in the script::

    import deepgrad.distributed as dist
    dist.init_process_group(backend="mpi")
    model = dist.DistributedDataParallel(model)          # rank 0's weights everywhere
    dist.manual_seed_per_rank(seed)                     # own dropout masks per rank
    sampler = DistributedSampler(train_set, seed=seed)  # deepgrad.data
    loader = DataLoader(train_set, batch_size=B // dist.get_world_size(), sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()

docs/distributed.md says what is averaged, how batch norm's statistics
and dropout's seeds work, what happens when a rank dies, and the measured
speed.
"""

from deepgrad.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_bytes,
    all_reduce,
    barrier,
    broadcast,
)
from deepgrad.distributed.ddp import DistributedDataParallel
from deepgrad.distributed.process_group import (
    DEFAULT_TIMEOUT,
    ProcessGroup,
    default_group,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)
from deepgrad.distributed.seeding import manual_seed_per_rank, rank_seed

__all__ = [
    "DEFAULT_TIMEOUT", "DistributedDataParallel", "ProcessGroup", "ReduceOp", "Work",
    "all_gather", "all_gather_bytes", "all_reduce", "barrier", "broadcast", "default_group",
    "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group",
    "is_available", "is_initialized", "manual_seed_per_rank", "rank_seed",
]
