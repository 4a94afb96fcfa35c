"""K training steps of a small model on MNIST digits, under mpirun or as the one-process reference.

Under ``mpirun -n N`` (``--mode ddp``) each rank trains its shard (batch
``B / N``) with DistributedDataParallel and writes ``rank<r>.npz``: every
step's averaged gradients, the final weights and buffers. ``--mode
reference`` is one plain process (no MPI, no DDP) with the whole batch
``B`` read through ``DistributedSampler(num_replicas=1)``: the same
permutation, so each of its batches is the union of the ranks' shards of
that step. For the dropout model the reference draws each rank's rows'
mask from that rank's documented generator (``rank_seed``), so the masks
are the ones the ranks drew; for the torch-default batch norm (``localbn``:
each rank its own statistics, rank 0's buffers broadcast every forward) it
computes each shard's gradient on its own and averages, as the ranks do.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

import deepgrad
from deepgrad import backend, nn, optim
from deepgrad.data import DataLoader, DistributedSampler, TensorDataset, mnist_sample
from deepgrad.distributed import rank_seed

SEED, ORDER_SEED, DROPOUT_SEED = 0, 3, 11


def build(kind: str) -> nn.Module:
    deepgrad.manual_seed(SEED)
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(196, 32), nn.Tanh(), nn.Linear(32, 10))
    if kind == "dropout":
        return nn.Sequential(nn.Flatten(), nn.Linear(196, 32), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(32, 10))
    if kind in ("bn", "localbn"):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 7 * 7, 16),
                             nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 10))
    raise SystemExit(f"unknown model {kind!r}")


def dataset(n: int) -> TensorDataset:
    """The first ``n`` digits of the MNIST sample, pooled to 14x14 to keep float64 cheap."""
    digits = mnist_sample()
    x = digits.data[:n].astype(np.float64) / 255.0
    x = x.reshape(n, 1, 14, 2, 14, 2).mean(axis=(3, 5))
    return TensorDataset(deepgrad.tensor(x), deepgrad.tensor(digits.targets[:n]))


class RankDropout(nn.Module):
    """The reference's dropout: rows ``r::N`` of the batch (rank ``r``'s shard, in the order
    DistributedSampler interleaves them) are masked by rank ``r``'s own generator."""

    def __init__(self, p: float, world: int) -> None:
        super().__init__()
        self.p, self.world = p, world
        self.states = []
        for r in range(world):
            deepgrad.manual_seed(rank_seed(DROPOUT_SEED, r))
            self.states.append(backend.get_rng_state())

    def forward(self, x: deepgrad.Tensor) -> deepgrad.Tensor:
        chunks = []
        for r in range(self.world):
            backend.set_rng_state(self.states[r])
            chunks.append(nn.functional.dropout(x[r::self.world], self.p, self.training))
            self.states[r] = backend.get_rng_state()
        return deepgrad.stack(chunks, dim=1).reshape(x.shape)


def grads(model: nn.Module) -> dict[str, np.ndarray]:
    return {n: p.grad.numpy().copy() for n, p in model.named_parameters()}


def state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def save(path: Path, steps: list[dict[str, np.ndarray]], model: nn.Module) -> None:
    flat = {f"grad{k}/{n}": g for k, step in enumerate(steps) for n, g in step.items()}
    flat.update({f"final/{n}": v for n, v in state(model).items()})
    np.savez(path, **flat)


def run_ddp(args: argparse.Namespace) -> None:
    import deepgrad.distributed as dist

    dist.init_process_group(backend="mpi", timeout=60)
    rank, world = dist.get_rank(), dist.get_world_size()
    model = build(args.model)
    if args.model == "bn":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb,
                                       overlap=args.overlap)
    dist.manual_seed_per_rank(DROPOUT_SEED)
    data = dataset(args.n)
    sampler = DistributedSampler(data, seed=ORDER_SEED)
    loader = DataLoader(data, batch_size=args.batch // world, sampler=sampler,
                        generator=deepgrad.Generator().manual_seed(1))
    opt = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    steps: list[dict[str, np.ndarray]] = []
    for x, y in loader:
        if len(steps) == args.steps:
            break
        opt.zero_grad()
        nn.functional.cross_entropy(ddp(x), y).backward()
        steps.append(grads(model))
        opt.step()
    save(Path(args.out) / f"rank{rank}.npz", steps, model)


def run_reference(args: argparse.Namespace) -> None:
    model = build(args.model)
    world = args.world
    if args.model == "dropout":
        model[3] = RankDropout(0.3, world)
    data = dataset(args.n)
    sampler = DistributedSampler(data, num_replicas=1, rank=0, seed=ORDER_SEED)
    loader = DataLoader(data, batch_size=args.batch, sampler=sampler,
                        generator=deepgrad.Generator().manual_seed(1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    steps: list[dict[str, np.ndarray]] = []
    last_buffers: list[dict[str, np.ndarray]] = []
    for x, y in loader:
        if len(steps) == args.steps:
            break
        opt.zero_grad()
        if args.model != "localbn":
            nn.functional.cross_entropy(model(x), y).backward()
            steps.append(grads(model))
        else:  # each shard on its own, all starting from rank 0's buffers; rank 0's kept
            start = copy.deepcopy(model.state_dict())
            shard_grads, last_buffers = [], []
            for r in range(world):
                model.load_state_dict(start)
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[r::world]), y[r::world]).backward()
                shard_grads.append(grads(model))
                last_buffers.append({n: b.numpy().copy() for n, b in model.named_buffers()})
            averaged = {n: np.mean([g[n] for g in shard_grads], axis=0) for n in shard_grads[0]}
            with deepgrad.no_grad():
                for n, b in model.named_buffers():
                    b.copy_(deepgrad.tensor(last_buffers[0][n]))
                for n, p in model.named_parameters():
                    p.grad = deepgrad.tensor(averaged[n])
            steps.append(averaged)
        opt.step()
    save(Path(args.out) / "reference.npz", steps, model)
    for r, buffers in enumerate(last_buffers):
        np.savez(Path(args.out) / f"reference_buffers{r}.npz", **buffers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ddp", "reference"], required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--world", type=int, default=2, help="reference: the ranks to mimic")
    parser.add_argument("--bucket-mb", type=float, default=25.0)
    parser.add_argument("--overlap", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    backend.set_default_dtype(np.float64)
    (run_ddp if args.mode == "ddp" else run_reference)(args)


if __name__ == "__main__":
    main()
