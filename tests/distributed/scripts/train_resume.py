"""A small DDP training on MNIST digits that rank 0 checkpoints every step; it can make one
rank fail at a given step (killed, stopped, or raising) and resume from its checkpoint.

Each rank's own state (its random generator, which draws its dropout masks, and its
loader's position) is gathered into rank 0's checkpoint, so a resumed run continues bit for
bit. The final weights go to ``final.npz``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import numpy as np

import deepgrad
import deepgrad.distributed as dist
from deepgrad import backend, nn, optim
from deepgrad.data import DataLoader, DistributedSampler, TensorDataset, mnist_sample
from deepgrad.serialization import load, save

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--steps", type=int, default=8)
parser.add_argument("--resume", action="store_true")
parser.add_argument("--fail-at", type=int, default=-1, help="the step at which a rank fails")
parser.add_argument("--fail-rank", type=int, default=1)
parser.add_argument("--how", choices=["kill", "stop", "raise"], default="kill")
parser.add_argument("--timeout", type=float, default=60)
args = parser.parse_args()
out = Path(args.out)

dist.init_process_group(backend="mpi", timeout=args.timeout)
rank, world = dist.get_rank(), dist.get_world_size()
deepgrad.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.2),
                      nn.Linear(32, 10))
ddp = dist.DistributedDataParallel(model)
dist.manual_seed_per_rank(5)
digits = mnist_sample()
data = TensorDataset(deepgrad.tensor(digits.data[:512] / 255.0).float(),
                     deepgrad.tensor(digits.targets[:512]))
sampler = DistributedSampler(data, seed=1)
loader = DataLoader(data, batch_size=16, sampler=sampler, generator=deepgrad.Generator())
opt = optim.Adam(ddp.parameters(), lr=1e-3)
step = 0
if args.resume:
    checkpoint = dict(load(out / "checkpoint.safetensors"))
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optimizer"])
    step = int(checkpoint["step"])
    mine = checkpoint["ranks"][rank]
    backend.set_rng_state(mine["rng"])
    loader.load_state_dict(mine["loader"])
    sampler.set_epoch(max(loader.epoch, 0))  # the epoch the loader resumes in
    print(f"rank {rank}: resumed at step {step}", flush=True)

while step < args.steps:
    for x, y in loader:
        if step == args.fail_at and rank == args.fail_rank:
            print(f"rank {rank}: failing ({args.how}) at step {step}", flush=True)
            if args.how == "raise":
                raise RuntimeError(f"rank {rank} broke on purpose")
            os.kill(os.getpid(), signal.SIGKILL if args.how == "kill" else signal.SIGSTOP)
        opt.zero_grad()
        nn.functional.cross_entropy(ddp(x), y).backward()
        opt.step()
        step += 1
        states = dist.all_gather_bytes(json.dumps(
            {"rng": backend.get_rng_state(), "loader": loader.state_dict()}).encode())
        if rank == 0:
            save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                  "ranks": [json.loads(s) for s in states]}, out / "checkpoint.safetensors")
        if step == args.steps:
            break
    else:
        sampler.set_epoch(loader.epoch + 1)

if rank == 0:
    np.savez(out / "final.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
print(f"rank {rank}: done at step {step}", flush=True)
