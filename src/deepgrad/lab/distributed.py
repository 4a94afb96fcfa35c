"""What ``fit(..., distributed=True)`` (``deepgrad train --distributed``) changes, in one place.

Launched as ``mpirun -n N deepgrad train CONFIG --distributed``, every rank
builds the same experiment (same seed, same initial weights) and then:

- trains through ``DistributedDataParallel`` (``Trainer.train_model``),
  while ``Trainer.model`` stays the bare model, so checkpoints, reports
  and ``deepgrad eval`` see the same files as a one-process run;
- reads its shard through a ``DistributedSampler`` (seeded with the run's
  seed, ``set_epoch`` each epoch) with ``batch_size / N`` per rank, so the
  config's ``batch_size`` stays the global batch of one step;
- draws its own dropout masks from ``rank_seed(seed, rank)`` and its
  loader's augmentation from a generator seeded ``[seed, 1, rank]``;
- only rank 0 writes: run folder, logs, checkpoints, report. The other
  ranks' own state (random generator, loader position) is gathered into
  rank 0's checkpoints at every step, so ``--resume`` with the same N
  continues bit for bit;
- batch norm buffers are rank 0's (DDP's ``broadcast_buffers``), and are
  broadcast once more after an epoch's last step, so every rank evaluates
  the same model and reaches the same decisions (early stopping, plateau
  schedules). Evaluation is not sharded: each rank evaluates the whole
  split (identical numbers; no speed-up there).

Training logs (``train_loss``, ``samples_per_sec``...) are rank 0's, over
its shard: the global throughput is N times ``samples_per_sec``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .callbacks import Callback, Logs
from .config import ConfigError

if TYPE_CHECKING:
    from .trainer import Trainer


class DistributedFit:
    """This rank's part in a distributed ``fit``: its loader, its model wrapper, its state."""

    def __init__(self) -> None:
        import deepgrad.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="mpi")
        self.dist = dist
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.ddp: Any = None
        self.state = RankState(self)

    @property
    def main(self) -> bool:
        """Rank 0: the one that writes."""
        return self.rank == 0

    def loader(self, data: Any, batch_size: int, *, seed: int | None, drop_last: bool,
               num_workers: int) -> Any:
        """This rank's training loader: its shard, ``batch_size / N`` per step. A DataLoader
        given as ``train_data`` contributes its dataset only (its sampler, batch size and
        collate function are replaced; the dataset's own transforms still apply)."""
        from deepgrad.data import DataLoader, DistributedSampler

        from .adapters import as_loader, is_loader

        if batch_size % self.world:
            raise ConfigError(f"fit(distributed=True): batch_size {batch_size} is the global "
                             f"batch and must divide by the {self.world} ranks; use a "
                             f"multiple of {self.world}")
        dataset = data.dataset if is_loader(data) else as_loader(data, 1).dataset
        base = 0 if seed is None else int(seed)
        sampler = DistributedSampler(dataset, self.world, self.rank, shuffle=True, seed=base,
                                     drop_last=drop_last)
        return DataLoader(dataset, batch_size // self.world, sampler=sampler,
                          drop_last=drop_last, num_workers=num_workers,
                          generator=np.random.default_rng([base, 1, self.rank]))

    def wrap(self, model: Any, seed: int | None, resumed: bool) -> Any:
        """The model every rank trains through; then this rank's own random stream."""
        if resumed and self.state.loaded is None:
            raise ConfigError("fit(distributed=True): this checkpoint was written by a "
                              "one-process run; resume it without --distributed")
        self.ddp = self.dist.DistributedDataParallel(model)
        if seed is not None and not resumed:
            self.dist.manual_seed_per_rank(seed)
        return self.ddp

    def callback(self) -> RankState:
        return self.state

    def shared_path(self, path: Path | None) -> Path:
        """Rank 0's run folder, told to every rank."""
        from deepgrad.distributed.collectives import broadcast_bytes

        text = broadcast_bytes(str(path).encode() if self.main and path else None, 0).decode()
        return Path(text)


class RankState(Callback):
    """Keeps the ranks in step: the sampler's epoch, rank 0's buffers before evaluation, and
    every rank's generator and loader position in rank 0's checkpoints (for resume)."""

    order = 99  # just before the checkpoint writers (100), after every other callback

    def __init__(self, run: DistributedFit) -> None:
        self.run = run
        self.ranks: list[dict[str, Any]] = []
        self.loaded: dict[str, Any] | None = None

    def on_train_begin(self, trainer: Trainer, logs: Logs) -> None:
        if self.loaded is not None:  # resumed: this rank's own loader position and generator
            mine = self.loaded["ranks"][self.run.rank]
            trainer.train_loader.load_state_dict(mine["loader"])
            trainer._pending["rng"] = mine["rng"]  # the trainer restores it right after this

    def on_epoch_begin(self, trainer: Trainer, logs: Logs) -> None:
        trainer.train_loader.sampler.set_epoch(trainer.epoch)

    def on_batch_end(self, trainer: Trainer, logs: Logs) -> None:
        self._gather(trainer)
        if trainer.batch_in_epoch == trainer.batches_per_epoch and self.run.ddp is not None:
            from deepgrad.distributed.ddp import _coalesced_broadcast

            buffers = [b for b in trainer.model.buffers() if b is not None]
            if buffers:  # evaluation sees rank 0's running statistics on every rank
                _coalesced_broadcast(buffers, self.run.ddp.process_group)

    def on_epoch_end(self, trainer: Trainer, logs: Logs) -> None:
        self._gather(trainer)

    def _gather(self, trainer: Trainer) -> None:
        from deepgrad import backend

        mine = {"rng": backend.get_rng_state(), "loader": trainer.train_loader.state_dict()}
        every = self.run.dist.all_gather_bytes(json.dumps(mine).encode())
        self.ranks = [json.loads(b) for b in every] if self.run.main else []

    def state_dict(self) -> dict[str, Any]:
        return {"world_size": self.run.world, "ranks": self.ranks}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["world_size"] != self.run.world:
            raise ConfigError(f"--resume: the run was trained on {state['world_size']} ranks, "
                              f"now there are {self.run.world}; resume with mpirun -n "
                              f"{state['world_size']} (the sample order and every rank's "
                              "random stream depend on it)")
        self.loaded = state
