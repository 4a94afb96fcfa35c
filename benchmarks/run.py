"""Training-step throughput of deepgrad against PyTorch, interleaved in one process.

    python benchmarks/run.py [--quick] [--json out.json] [--only A,C] [--no-memory]

For each of the course models at its report's batch size, one "round" times a
few training steps (forward + backward + optimizer step) of deepgrad, then of
torch, alternating; the median over rounds gives samples/s for each and the
ratio deepgrad / torch. Both frameworks use the same number of threads
(torch.set_num_threads equal to NumPy's BLAS threads). Peak memory of a
training step is measured in separate subprocesses (max RSS above the
process's baseline after imports and data creation).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    """One benchmarked model: how to build it for a given ``nn`` namespace, and its setting."""

    key: str
    title: str
    batch: int
    input_shape: tuple[int, ...]
    classes: int
    optimizer: str
    build: Callable[[Any], Any]
    autoencoder: bool = False
    dropout_model: bool = False


def mlp_a(nn: Any) -> Any:
    return nn.Sequential(nn.Flatten(), nn.Linear(3072, 100), nn.ReLU(), nn.Linear(100, 10))


def mlp_b(nn: Any) -> Any:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(3072, 1500), nn.ELU(), nn.Dropout(0.12),
        nn.Linear(1500, 400), nn.ELU(), nn.Dropout(0.12), nn.Linear(400, 10))


def mnist_cnn(nn: Any) -> Any:
    """Report 001's MNIST CNN (3,274,634 parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, 10))


def cifar_cnn(nn: Any) -> Any:
    """Report 001's CIFAR-10 CNN (537,610 parameters)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(128, 256, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(256 * 2 * 2, 128), nn.ReLU(),
        nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 10))


def tutorial_cnn(nn: Any) -> Any:
    """Report 002's tutorial CNN (62,006 parameters)."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def denoising_ae(nn: Any) -> Any:
    """Report 003's denoising autoencoder 784-128-64-32-64-128-784, sigmoid."""
    sizes = [784, 128, 64, 32, 64, 128, 784]
    layers: list[Any] = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.Sigmoid()]
    return nn.Sequential(*layers)


CASES = [
    Case("A", "MLP 3072-100-10 ReLU (000)", 200, (3, 32, 32), 10, "sgd", mlp_a),
    Case("B", "MLP 3072-1500-400-10 ELU+dropout (000)", 400, (3, 32, 32), 10, "adam", mlp_b),
    Case("C", "MNIST CNN (001)", 50, (1, 28, 28), 10, "adam", mnist_cnn),
    Case("D", "CIFAR CNN (001)", 64, (3, 32, 32), 10, "adam", cifar_cnn),
    Case("E", "tutorial CNN (002)", 64, (3, 32, 32), 10, "momentum", tutorial_cnn),
    Case("F", "denoising AE (003)", 256, (1, 28, 28), 10, "adam", denoising_ae, autoencoder=True),
]


class Framework:
    """The few calls that differ between deepgrad and torch, behind one face."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch

            self.lib = torch
            self.nn = torch.nn
            self.F = torch.nn.functional
            self.optim = torch.optim
        else:
            import deepgrad

            self.lib = deepgrad
            self.nn = deepgrad.nn
            self.F = deepgrad.nn.functional
            self.optim = deepgrad.optim

    def tensor(self, array: np.ndarray) -> Any:
        return self.lib.from_numpy(array)

    def optimizer(self, kind: str, params: Any) -> Any:
        if kind == "sgd":
            return self.optim.SGD(params, lr=0.01)
        if kind == "momentum":
            return self.optim.SGD(params, lr=0.01, momentum=0.9)
        return self.optim.Adam(params, lr=1e-3)


def make_step(fw: Framework, case: Case, seed: int = 0) -> tuple[Callable[[], None], Any]:
    """A closure running one training step on fixed random data, and the model."""
    fw.lib.manual_seed(seed)
    model = case.build(fw.nn)
    model.train()
    opt = fw.optimizer(case.optimizer, model.parameters())
    rng = np.random.default_rng(seed)
    x_np = rng.random((case.batch, *case.input_shape), dtype=np.float32)
    y_np = rng.integers(0, case.classes, case.batch).astype(np.int64)
    x, y = fw.tensor(x_np), fw.tensor(y_np)
    target = fw.tensor(x_np.reshape(case.batch, -1).copy())

    def step() -> None:
        out = model(x)
        loss = fw.F.mse_loss(out, target) if case.autoencoder else fw.F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if fw.name == "deepgrad":
            assert out.dtype == np.float32 and loss.dtype == np.float32, "float64 upcast"

    return step, model


def make_inference(fw: Framework, case: Case, batch: int = 1000) -> Callable[[], None]:
    fw.lib.manual_seed(0)
    model = case.build(fw.nn)
    model.eval()
    x = fw.tensor(np.random.default_rng(0).random((batch, *case.input_shape), dtype=np.float32))

    def infer() -> None:
        with fw.lib.no_grad():
            model(x)

    return infer


def assert_float32(case: Case) -> None:
    """Every parameter and gradient stays float32 through a deepgrad step."""
    fw = Framework("deepgrad")
    step, model = make_step(fw, case)
    step()
    for name, p in model.named_parameters():
        assert p.dtype == np.float32, f"{case.key}: {name} is {p.dtype}"
        assert p.grad is not None and p.grad.dtype == np.float32, f"{case.key}: grad of {name}"


CLOCK = time.perf_counter


def timed(fn: Callable[[], None], steps: int) -> float:
    start = CLOCK()
    for _ in range(steps):
        fn()
    return (CLOCK() - start) / steps


def interleaved(fns: dict[str, Callable[[], None]], rounds: int, steps: int,
                warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, alternating rounds so that both see the
    same machine state (thermal, other load)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(list(fns)))
        for k in order:
            samples[k].append(timed(fns[k], steps))
    return {k: statistics.median(v) for k, v in samples.items()}


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return int(infos[0]["num_threads"]) if infos else 1
    except ImportError:  # pragma: no cover
        return 1


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))


def peak_memory(framework: str, key: str, steps: int = 3) -> float:
    """Peak RSS growth (MiB) of building the model and running training steps, in a fresh
    subprocess: the high-water mark is reset after imports (``/proc/self/clear_refs``;
    ``ru_maxrss`` would start from the parent's size, which it inherits across fork)."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks');"
        "import run;"
        f"fw = run.Framework({framework!r});"
        f"case = next(c for c in run.CASES if c.key == {key!r});"
        "open('/proc/self/clear_refs', 'w').write('5');"
        "before = run._rss_kib('VmRSS:');"
        "step, _ = run.make_step(fw, case);"
        f"[step() for _ in range({steps})];"
        "print((run._rss_kib('VmHWM:') - before) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def micro_benchmarks(rounds: int) -> list[dict[str, Any]]:
    """The hot ops alone, so a regression shows where it comes from."""
    import torch

    import deepgrad

    rng = np.random.default_rng(0)
    results = []

    def pair(name: str, make: Callable[[Framework], Callable[[], None]]) -> None:
        fns = {n: make(Framework(n)) for n in ("deepgrad", "torch")}
        t = interleaved(fns, rounds, steps=5)
        results.append({"op": name, "deepgrad_ms": t["deepgrad"] * 1e3,
                        "torch_ms": t["torch"] * 1e3, "ratio": t["torch"] / t["deepgrad"]})

    x1 = rng.random((50, 1, 28, 28), dtype=np.float32)
    w1 = rng.standard_normal((32, 1, 5, 5)).astype(np.float32) * 0.1
    x2 = rng.random((50, 32, 14, 14), dtype=np.float32)
    w2 = rng.standard_normal((64, 32, 5, 5)).astype(np.float32) * 0.1
    xp = rng.random((50, 32, 28, 28), dtype=np.float32)
    xl = rng.random((400, 3072), dtype=np.float32)
    wl = rng.standard_normal((1500, 3072)).astype(np.float32) * 0.01
    logits = rng.standard_normal((400, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 400)

    def conv(x: np.ndarray, w: np.ndarray, pad: int) -> Callable[[Framework], Callable[[], None]]:
        def make(fw: Framework) -> Callable[[], None]:
            xt = fw.lib.tensor(x, requires_grad=True)
            wt = fw.lib.tensor(w, requires_grad=True)

            def f() -> None:
                fw.F.conv2d(xt, wt, padding=pad).sum().backward()
            return f
        return make

    def pool(fw: Framework) -> Callable[[], None]:
        xt = fw.lib.tensor(xp, requires_grad=True)
        return lambda: fw.F.max_pool2d(xt, 2, 2).sum().backward()

    def linear(fw: Framework) -> Callable[[], None]:
        xt = fw.lib.tensor(xl, requires_grad=True)
        wt = fw.lib.tensor(wl, requires_grad=True)
        return lambda: fw.F.linear(xt, wt).sum().backward()

    def ce(fw: Framework) -> Callable[[], None]:
        lt = fw.lib.tensor(logits, requires_grad=True)
        yt = fw.lib.tensor(labels)
        return lambda: fw.F.cross_entropy(lt, yt).backward()

    def adam(fw: Framework) -> Callable[[], None]:
        params = [fw.lib.tensor(rng.standard_normal((1024, 3136)).astype(np.float32),
                                requires_grad=True)]
        params[0].grad = fw.lib.tensor(rng.standard_normal((1024, 3136)).astype(np.float32))
        opt = fw.optim.Adam(params, lr=1e-3)
        return opt.step

    pair("conv2d 50x1x28x28 -> 32, 5x5 pad 2 (fwd+bwd)", conv(x1, w1, 2))
    pair("conv2d 50x32x14x14 -> 64, 5x5 pad 2 (fwd+bwd)", conv(x2, w2, 2))
    pair("max_pool2d 2x2 on 50x32x28x28 (fwd+bwd)", pool)
    pair("linear 400x3072 -> 1500 (fwd+bwd)", linear)
    pair("cross_entropy 400x10 (fwd+bwd)", ce)
    pair("Adam step, 3.2M params", adam)
    del deepgrad, torch
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under 2 minutes)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--only", help="comma-separated model ids, e.g. A,C")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-memory subprocesses")
    parser.add_argument("--no-micro", action="store_true", help="skip op micro-benchmarks")
    parser.add_argument("--threads", type=int, help="BLAS threads for NumPy and torch "
                        "(default: NumPy's current)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time process CPU time, not wall time (use with --threads 1 on a "
                             "busy machine: other processes then do not distort the ratio)")
    args = parser.parse_args(argv)

    import torch

    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    threads = blas_threads()
    torch.set_num_threads(threads)
    rounds = 3 if args.quick else 7
    cases = [c for c in CASES if not args.only or c.key in args.only.split(",")]
    clock = "CPU time" if args.cpu_time else "wall time"
    machine = f"{platform.processor() or platform.machine()}, {threads} BLAS threads, {clock}"
    print(f"deepgrad vs torch {torch.__version__}, numpy {np.__version__}, {machine}")
    print(f"{'id':<3}{'model':<42}{'batch':>6}{'deepgrad/s':>12}{'torch/s':>10}{'ratio':>7}"
          f"{'mem dg':>9}{'mem t':>8}")
    rows: list[dict[str, Any]] = []
    for case in cases:
        assert_float32(case)
        fns = {n: make_step(Framework(n), case)[0] for n in ("deepgrad", "torch")}
        steps = max(1, int(0.4 / max(timed(fns["torch"], 1), 1e-4))) if not args.quick else 2
        steps = min(steps, 20)
        t = interleaved(fns, rounds, steps)
        row: dict[str, Any] = {
            "id": case.key, "model": case.title, "batch": case.batch,
            "deepgrad_samples_per_s": case.batch / t["deepgrad"],
            "torch_samples_per_s": case.batch / t["torch"],
            "ratio": t["torch"] / t["deepgrad"],
        }
        if not args.no_memory:
            row["deepgrad_peak_mib"] = peak_memory("deepgrad", case.key)
            row["torch_peak_mib"] = peak_memory("torch", case.key)
        rows.append(row)
        mem = (f"{row['deepgrad_peak_mib']:>9.0f}{row['torch_peak_mib']:>8.0f}"
               if "deepgrad_peak_mib" in row else "")
        print(f"{case.key:<3}{case.title:<42}{case.batch:>6}{row['deepgrad_samples_per_s']:>12.0f}"
              f"{row['torch_samples_per_s']:>10.0f}{row['ratio']:>7.2f}{mem}", flush=True)
    inference = []
    for case in [c for c in cases if c.key in ("C", "D")]:
        fns = {n: make_inference(Framework(n), case) for n in ("deepgrad", "torch")}
        t = interleaved(fns, rounds, 1, warmup=1)
        inference.append({"id": case.key, "deepgrad_samples_per_s": 1000 / t["deepgrad"],
                          "torch_samples_per_s": 1000 / t["torch"],
                          "ratio": t["torch"] / t["deepgrad"]})
        print(f"inference {case.key} batch 1000: deepgrad {1000 / t['deepgrad']:.0f}/s, "
              f"torch {1000 / t['torch']:.0f}/s, ratio {t['torch'] / t['deepgrad']:.2f}")
    micro = [] if args.no_micro else micro_benchmarks(rounds)
    for m in micro:
        print(f"  {m['op']:<48} deepgrad {m['deepgrad_ms']:8.2f} ms  torch {m['torch_ms']:8.2f} ms"
              f"  ratio {m['ratio']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine, "torch": torch.__version__, "numpy": np.__version__,
                       "training": rows, "inference": inference, "micro": micro}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
