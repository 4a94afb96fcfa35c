"""Data-parallel speed: report 001's MNIST CNN, N ranks x 1 thread against 1 process x 1 thread.

    python benchmarks/distributed.py                 # the whole comparison, repeated
    python benchmarks/distributed.py --repeats 7 --steps 30 --json out.json
    python benchmarks/distributed.py --estimate out.json   # the 8-64 rank estimate

The driver launches every configuration ``--repeats`` times, interleaved
(so a burst of load from elsewhere hits all of them alike), and prints the
median and the spread (min-max) of training samples/s:

- ``1x1``: one plain process (no MPI, no DDP), batch 64;
- ``2x1 B=64``: 2 ranks with DDP, global batch 64 (32 per rank), the same
  optimisation as ``1x1`` (strong scaling);
- ``2x1 B=128``: 2 ranks, 64 per rank (weak scaling, torch's usual report);
- ``2x1 B=128 overlap``: DDP's ``overlap=True`` (each full bucket's
  ``Iallreduce`` started during backward).

Each worker (``--worker``) times ``--steps`` Adam steps after 3 warm-up
steps on the MNIST sample shipped in the package, and reports the time its
last gradient hook waited for the reductions (``DistributedDataParallel.
sync_seconds``). Then ``--allreduce`` times a bare ``Allreduce`` of 4 B ..
13 MB (the model's float32 gradients are 13.1 MB) for the scaling model of
docs/distributed.md. One BLAS thread per process throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    ("1x1", 1, 64, []),
    ("2x1 B=64", 2, 64, []),
    ("2x1 B=128", 2, 128, []),
    ("2x1 B=128 overlap", 2, 128, ["--overlap"]),
]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), out.get("PYTHONPATH", "")])
    out.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return out


def worker(args: argparse.Namespace) -> None:
    from threadpoolctl import threadpool_limits

    import deepgrad
    from deepgrad import nn, optim
    from deepgrad.data import BatchSampler, DistributedSampler, mnist_sample
    from deepgrad.lab.zoo.mnist_cnn import MnistCNN

    threadpool_limits(1)
    world, rank = 1, 0
    if args.ranks > 1:
        import deepgrad.distributed as dist

        dist.init_process_group(backend="mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    deepgrad.manual_seed(0)
    model = MnistCNN()
    train: Any = model
    if world > 1:
        train = dist.DistributedDataParallel(model, overlap=args.overlap)
        dist.manual_seed_per_rank(0)
    digits = mnist_sample()
    images = deepgrad.tensor(digits.data[:, None] / 255.0).float()
    labels = deepgrad.tensor(digits.targets)
    sampler = DistributedSampler(digits, world, rank, seed=0)
    per_rank = args.batch // world
    batches = iter(BatchSampler(sampler, per_rank, drop_last=True))
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        index = next(batches)
        opt.zero_grad()
        nn.functional.cross_entropy(train(images[index]), labels[index]).backward()
        opt.step()

    for _ in range(3):
        step()
    if world > 1:
        dist.barrier()
        train.sync_seconds, train.sync_cpu_seconds, train.sync_count = 0.0, 0.0, 0
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    cpu = time.process_time() - start_cpu
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    compute_cpu = cpu - (train.sync_cpu_seconds if world > 1 else 0.0)
    if world > 1:  # the slower rank's compute sets the pace
        slowest = np.array([compute_cpu])
        dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
        compute_cpu = float(slowest[0])
    if rank == 0:
        print(json.dumps({
            "samples_per_s": args.steps * args.batch / seconds,
            "step_s": seconds / args.steps,
            "sync_wait_s": (train.sync_seconds / max(train.sync_count, 1)) if world > 1 else 0,
            "compute_cpu_step_s": compute_cpu / args.steps,
            "gradient_mb": sum(p.numel() for p in model.parameters()) * 4 / 1e6,
        }), flush=True)


def allreduce(args: argparse.Namespace) -> None:
    import deepgrad.distributed as dist

    dist.init_process_group(backend="mpi")
    sizes = [1, 256, 4096, 65536, 262144, 1048576, 3274634]
    results = []
    for n in sizes:
        buffer = np.ones(n, np.float32)
        reps = 50 if n < 1_000_000 else 15
        times = []
        for _ in range(reps):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(buffer)
            times.append(time.perf_counter() - start)
        results.append({"floats": n, "bytes": 4 * n, "median_s": statistics.median(times),
                        "min_s": min(times)})
    if dist.get_rank() == 0:
        print(json.dumps({"allreduce": results, "ranks": dist.get_world_size()}), flush=True)


def launch(ranks: int, argv: list[str], timeout: float) -> dict[str, Any]:
    script = [sys.executable, str(Path(__file__).resolve()), *argv]
    command = script if ranks == 1 and "--allreduce" not in argv else [
        "mpirun", "-n", str(ranks), "--oversubscribe", *script]
    done = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def drive(args: argparse.Namespace) -> None:
    bare = launch(2, ["--allreduce"], args.timeout)
    print("bare Allreduce on 2 ranks (float32):")
    for row in bare["allreduce"]:
        print(f"  {row['bytes']:>10,d} B  median {1e3 * row['median_s']:8.3f} ms  "
              f"min {1e3 * row['min_s']:8.3f} ms")
    gradients = bare["allreduce"][-1]["min_s"]  # the model's 3,274,634 float32 gradients
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in CONFIGS}
    for repeat in range(args.repeats):
        for name, ranks, batch, extra in CONFIGS:
            result = launch(ranks, ["--worker", "--ranks", str(ranks), "--batch", str(batch),
                                    "--steps", str(args.steps), *extra], args.timeout)
            runs[name].append(result)
            print(f"repeat {repeat + 1}/{args.repeats} {name:22s} "
                  f"{result['samples_per_s']:7.1f} samples/s, step {result['step_s']:.3f} s, "
                  f"sync wait {1000 * result['sync_wait_s']:.1f} ms", flush=True)
    # The idle-machine estimate: each rank's own CPU time for its compute (which other
    # processes on a shared machine cannot inflate), plus the bare allreduce of the gradients.
    def idle_rate(name: str, r: dict[str, Any]) -> float:
        ranks, batch = next((n, b) for c, n, b, _ in CONFIGS if c == name)
        return batch / (r["compute_cpu_step_s"] + (gradients if ranks > 1 else 0.0))

    base = statistics.median(r["samples_per_s"] for r in runs["1x1"])
    idle_base = statistics.median(idle_rate("1x1", r) for r in runs["1x1"])
    summary: dict[str, Any] = {}
    print(f"\n{'config':22s} {'samples/s median':>16s} {'(min-max)':>16s} {'speed-up':>9s} "
          f"{'sync wait/step':>15s} {'idle estimate':>14s} {'speed-up':>9s}")
    for name, results in runs.items():
        rates = [r["samples_per_s"] for r in results]
        waits = [1000 * r["sync_wait_s"] for r in results]
        idle = statistics.median(idle_rate(name, r) for r in results)
        med = statistics.median(rates)
        summary[name] = {"samples_per_s": rates, "median": med, "speedup": med / base,
                         "sync_wait_ms": waits, "idle_estimate": idle,
                         "idle_speedup": idle / idle_base,
                         "compute_cpu_step_s": [r["compute_cpu_step_s"] for r in results]}
        print(f"{name:22s} {med:16.1f} {f'({min(rates):.1f}-{max(rates):.1f})':>16s} "
              f"{med / base:8.2f}x {statistics.median(waits):12.1f} ms {idle:14.1f} "
              f"{idle / idle_base:8.2f}x")
    summary["allreduce_2_ranks"] = bare["allreduce"]
    summary["machine"] = {"cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg()}
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


NETWORKS = [  # (name, latency s, bandwidth bytes/s): assumed typical figures, not measured here
    ("10 GbE", 30e-6, 1.1e9),
    ("100 Gb/s InfiniBand", 2e-6, 11e9),
]


def estimate(path: str) -> None:
    """The 8-64 rank estimate of docs/distributed.md from a ``--json`` result.

    Ring allreduce of S bytes over p ranks: T(p) = 2 (p-1)/p * S/beta + 2 (p-1) alpha.
    alpha and beta on one machine come from the measured 2-rank Allreduce (T(2) = S/beta +
    2 alpha: the 4-byte time gives alpha, the gradients' time beta). A step costs the
    rank's compute c (measured, per-rank batch 64) plus T(p), with no overlap (as measured:
    it does not pay here), so weak-scaling efficiency is c / (c + T(p)).
    """
    data = json.loads(Path(path).read_text())
    rows = data["allreduce_2_ranks"]
    alpha = rows[0]["min_s"] / 2
    size = rows[-1]["bytes"]
    beta = size / (rows[-1]["min_s"] - 2 * alpha)
    compute = statistics.median(data["1x1"]["compute_cpu_step_s"])  # batch 64, one thread
    links = [("shared memory (measured)", alpha, beta), *NETWORKS]
    print(f"S = {size / 1e6:.1f} MB of float32 gradients, compute c = {1e3 * compute:.0f} ms "
          f"per step (batch 64 per rank, 1 thread); one machine: alpha = {1e6 * alpha:.1f} us, "
          f"beta = {beta / 1e9:.2f} GB/s")
    print(f"{'link':26s} {'ranks':>5s} {'allreduce ms':>12s} {'efficiency':>10s} "
          f"{'speed-up':>8s}")
    for name, a, b in links:
        for p in (8, 16, 32, 64):
            t = 2 * (p - 1) / p * size / b + 2 * (p - 1) * a
            eff = compute / (compute + t)
            print(f"{name:26s} {p:5d} {1e3 * t:12.2f} {eff:10.1%} {p * eff:8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--allreduce", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--overlap", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each configuration")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--estimate", metavar="JSON",
                        help="print the 8-64 rank scaling estimate from a --json result")
    args = parser.parse_args()
    if args.estimate:
        estimate(args.estimate)
    elif args.worker:
        worker(args)
    elif args.allreduce:
        allreduce(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
