"""Micro-benchmark: deepgrad's conv2d and max_pool2d (forward + backward) against torch.

The shapes are the course's MNIST CNN (report 001): conv 1->32 5x5 pad 2 on 28x28,
conv 32->64 5x5 pad 2 on 14x14, batch 50, and the 2x2 max-pool after each.
Both libraries run in the same process with the same number of threads (torch is
set to NumPy's BLAS thread count), in interleaved rounds; the median is reported.
The ratio is torch_time / deepgrad_time (1.0 = as fast as torch, 0.5 = twice as slow).

    python benchmarks/conv_micro.py [--rounds 15] [--reps 5] [--threads N] [--cpu-time]

On a shared machine, ``--threads 1 --cpu-time`` (process CPU time of one thread) is far
steadier than wall-clock time: other processes then slow both libraries alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import deepgrad
import deepgrad.nn.functional as F


def blas_threads() -> int:
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return int(pool["num_threads"])
    return 1


def conv_case(n: int, c: int, hw: int, o: int, input_grad: bool) -> tuple[Callable[[], Any],
                                                                           Callable[[], Any]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, hw, hw)).astype(np.float32)
    w = (rng.standard_normal((o, c, 5, 5)) * 0.1).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    g = rng.standard_normal((n, o, hw, hw)).astype(np.float32)
    dx, dw, db = (deepgrad.tensor(x, requires_grad=input_grad),
                  deepgrad.tensor(w, requires_grad=True), deepgrad.tensor(b, requires_grad=True))
    tx, tw, tb = (torch.tensor(x, requires_grad=input_grad), torch.tensor(w, requires_grad=True),
                  torch.tensor(b, requires_grad=True))
    dg_g, t_g = deepgrad.tensor(g), torch.tensor(g)

    def run_deepgrad() -> None:
        dw.grad = db.grad = dx.grad = None
        F.conv2d(dx, dw, db, padding=2).backward(dg_g)

    def run_torch() -> None:
        tw.grad = tb.grad = tx.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=2).backward(t_g)

    return run_deepgrad, run_torch


def pool_case(n: int, c: int, hw: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, hw, hw)).astype(np.float32)
    g = rng.standard_normal((n, c, hw // 2, hw // 2)).astype(np.float32)
    dx, tx = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    dg_g, t_g = deepgrad.tensor(g), torch.tensor(g)

    def run_deepgrad() -> None:
        dx.grad = None
        F.max_pool2d(dx, 2, 2).backward(dg_g)

    def run_torch() -> None:
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2, 2).backward(t_g)

    return run_deepgrad, run_torch


def cnn_step_case(n: int = 50) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Report 001's MNIST CNN, one forward + backward: conv-relu-pool twice, fc 3136->1024,
    fc 1024->10, cross-entropy. Shows the layouts flowing between the ops."""
    rng = np.random.default_rng(2)
    shapes = [(32, 1, 5, 5), (32,), (64, 32, 5, 5), (64,), (1024, 3136), (1024,), (10, 1024),
              (10,)]
    params = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    x = rng.random((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n)
    dg_params = [deepgrad.tensor(p, requires_grad=True) for p in params]
    t_params = [torch.tensor(p, requires_grad=True) for p in params]
    dg_x, dg_y, t_x, t_y = deepgrad.tensor(x), deepgrad.tensor(y), torch.tensor(x), torch.tensor(y)

    def step(f: Any, ps: list[Any], xb: Any, yb: Any) -> None:
        for p in ps:
            p.grad = None
        w1, b1, w2, b2, w3, b3, w4, b4 = ps
        h = f.max_pool2d(f.relu(f.conv2d(xb, w1, b1, padding=2)), 2)
        h = f.max_pool2d(f.relu(f.conv2d(h, w2, b2, padding=2)), 2)
        h = f.relu(f.linear(h.reshape(xb.shape[0], -1), w3, b3))
        f.cross_entropy(f.linear(h, w4, b4), yb).backward()

    return (lambda: step(F, dg_params, dg_x, dg_y),
            lambda: step(torch.nn.functional, t_params, t_x, t_y))


def timed(fn: Callable[[], Any], reps: int, clock: Callable[[], float]) -> float:
    start = clock()
    for _ in range(reps):
        fn()
    return (clock() - start) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads for NumPy and torch (default: NumPy's current)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time process CPU time instead of wall-clock time")
    args = parser.parse_args()
    if args.threads is not None:
        threadpool_limits(args.threads, user_api="blas")
    threads = blas_threads()
    torch.set_num_threads(threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    cases = {
        "conv1 50x1x28x28 -> 32, 5x5 pad 2": conv_case(50, 1, 28, 32, input_grad=False),
        "conv2 50x32x14x14 -> 64, 5x5 pad 2": conv_case(50, 32, 14, 64, input_grad=True),
        "max_pool2d 2x2 on 50x32x28x28": pool_case(50, 32, 28),
        "max_pool2d 2x2 on 50x64x14x14": pool_case(50, 64, 14),
        "MNIST CNN step (report 001), batch 50": cnn_step_case(),
    }
    print(f"threads: numpy BLAS {threads}, torch {torch.get_num_threads()}; "
          f"{args.rounds} interleaved rounds of {args.reps} reps, median "
          f"{'CPU' if args.cpu_time else 'wall-clock'} time; fwd+bwd")
    print(f"{'case':40s} {'deepgrad ms':>12s} {'torch ms':>10s} {'torch/deepgrad':>15s}")
    for name, (run_dg, run_t) in cases.items():
        run_dg(), run_t()  # warm-up
        dg_times, t_times = [], []
        for _ in range(args.rounds):
            dg_times.append(timed(run_dg, args.reps, clock))
            t_times.append(timed(run_t, args.reps, clock))
        dg_ms, t_ms = statistics.median(dg_times) * 1e3, statistics.median(t_times) * 1e3
        print(f"{name:40s} {dg_ms:12.2f} {t_ms:10.2f} {t_ms / dg_ms:15.2f}")


if __name__ == "__main__":
    main()
