"""Training-step throughput of deepgrad against PyTorch (and DeZero), interleaved rounds.

    python benchmarks/run.py [--quick] [--threads 1 --cpu-time] [--json out.json]
                             [--compare BEFORE.json] [--only A,C] [--no-memory]
    python benchmarks/run.py --compare BEFORE.json --against AFTER.json

For each of the course models at its report's batch size, one "round" times a few
training steps (forward + backward + optimizer step) of each framework in turn, the order
alternating between rounds; 15 rounds (7 with ``--quick``). Reported per model: the
median samples/s of each, the median of the per-round ratios torch time / deepgrad time
with its quartiles (wall time and CPU time both), the fraction of the NumPy GEMM limit
(``gemm_limit.py``), DeZero's ratio when it is installed (``dezero_peer.py``), and peak
memory, measured in separate subprocesses (max RSS above the process's baseline after
imports). ``--compare`` flags any change beyond the noise that both runs' spreads
imply (``timing.py``). Both frameworks use the same number of threads
(torch.set_num_threads equal to NumPy's BLAS threads).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from dezero_peer import available as dezero_available
from gemm_limit import gemm_time, step_gemms
from timing import (
    NOISE_SIGMAS,
    RUN_TO_RUN_FLOOR,
    Summary,
    compare,
    interleaved,
    paired_ratios,
    per_round,
    steps_for,
    summarize,
)


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


def framework(name: str) -> Any:
    """deepgrad, torch, or the optional DeZero peer (``benchmarks/dezero_peer.py``)."""
    if name == "dezero":
        from dezero_peer import DeZero

        return DeZero()
    return Framework(name)


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


def micro_benchmarks(rounds: int, clock: str) -> list[dict[str, Any]]:
    """The hot ops alone, so a regression shows where it comes from."""
    import torch

    import deepgrad

    rng = np.random.default_rng(0)
    results = []

    def pair(name: str, make: Callable[[Framework], Callable[[], None]]) -> None:
        fns = {n: make(Framework(n)) for n in ("deepgrad", "torch")}
        s = interleaved(fns, rounds, steps=5)
        dg = summarize([r[clock] for r in s["deepgrad"]]).median
        th = summarize([r[clock] for r in s["torch"]]).median
        ratio = summarize(paired_ratios(s["deepgrad"], s["torch"], clock))
        results.append({"op": name, "deepgrad_ms": dg * 1e3, "torch_ms": th * 1e3,
                        "ratio": ratio.median, "ratio_stats": ratio.as_dict()})

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


def _training_row(case: Case, names: list[str], rounds: int, target_s: float, clock: str,
                  memory: bool) -> dict[str, Any]:
    """One model: interleaved rounds of every framework, paired ratios, the GEMM limit."""
    other = "wall" if clock == "cpu" else "cpu"
    assert_float32(case)
    fns: dict[str, Callable[[], None]] = {}
    dg_step, dg_model = make_step(Framework("deepgrad"), case)
    fns["deepgrad"] = dg_step
    fns["torch"] = make_step(Framework("torch"), case)[0]
    skipped: dict[str, str] = {}
    for name in names:
        try:
            fns[name] = make_step(framework(name), case)[0]
        except Exception as exc:  # noqa: BLE001 - a peer lacking a layer is reported, not fatal
            skipped[name] = f"{type(exc).__name__}: {exc}"
    steps = {k: steps_for(fn, target_s) for k, fn in fns.items()}
    samples = interleaved(fns, rounds, steps)
    dg = summarize(per_round(samples["deepgrad"], clock, case.batch))
    th = summarize(per_round(samples["torch"], clock, case.batch))
    ratio = summarize(paired_ratios(samples["deepgrad"], samples["torch"], clock))
    ratio_other = summarize(paired_ratios(samples["deepgrad"], samples["torch"], other))
    gemm = gemm_time(step_gemms(dg_model, dg_step), rounds)[clock]
    row: dict[str, Any] = {
        "id": case.key, "model": case.title, "batch": case.batch,
        "deepgrad_samples_per_s": dg.median, "torch_samples_per_s": th.median,
        "ratio": ratio.median,
        "deepgrad_stats": dg.as_dict(), "torch_stats": th.as_dict(),
        "ratio_stats": ratio.as_dict(), f"ratio_{other}_stats": ratio_other.as_dict(),
        "gemm_ms": gemm * 1e3,
        "gemm_fraction_deepgrad": gemm * dg.median / case.batch,
        "gemm_fraction_torch": gemm * th.median / case.batch,
        "steps_per_round": steps,
        "rounds": {k: v for k, v in samples.items()},
    }
    for name in names:
        if name in fns:
            peer = summarize(paired_ratios(samples["deepgrad"], samples[name], clock))
            row[f"{name}_samples_per_s"] = summarize(
                per_round(samples[name], clock, case.batch)).median
            row[f"{name}_ratio_stats"] = peer.as_dict()
        else:
            row[f"{name}_skipped"] = skipped[name]
    if memory:
        row["deepgrad_peak_mib"] = peak_memory("deepgrad", case.key)
        row["torch_peak_mib"] = peak_memory("torch", case.key)
    return row


def _print_row(row: dict[str, Any], peers: list[str]) -> None:
    ratio = Summary.from_dict(row["ratio_stats"])
    other = next(k for k in row if k.startswith("ratio_") and k.endswith("_stats")
                 and k != "ratio_stats")
    line = (f"{row['id']:<3}{row['model']:<42}{row['batch']:>6}"
            f"{row['deepgrad_samples_per_s']:>11.0f}{row['torch_samples_per_s']:>10.0f}"
            f"{ratio.text():>18}{Summary.from_dict(row[other]).median:>7.2f}"
            f"{row['gemm_fraction_deepgrad']:>7.2f}{row['gemm_fraction_torch']:>6.2f}")
    for name in peers:
        stats = row.get(f"{name}_ratio_stats")
        line += f"{Summary.from_dict(stats).text():>18}" if stats else f"{'n/a':>18}"
    if "deepgrad_peak_mib" in row:
        line += f"{row['deepgrad_peak_mib']:>8.0f}{row['torch_peak_mib']:>7.0f}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds "
                        "(under 2 minutes)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 7 quick, 15)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--compare", metavar="BEFORE.json",
                        help="compare with an earlier --json file; exit 1 on a regression "
                             "beyond the noise")
    parser.add_argument("--against", metavar="AFTER.json",
                        help="with --compare: compare two files without running anything")
    parser.add_argument("--only", help="comma-separated model ids, e.g. A,C")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-memory subprocesses")
    parser.add_argument("--no-micro", action="store_true", help="skip op micro-benchmarks")
    parser.add_argument("--no-inference", action="store_true", help="skip batch-1000 inference")
    parser.add_argument("--no-dezero", action="store_true",
                        help="skip the DeZero peer (skipped anyway when not installed)")
    parser.add_argument("--threads", type=int, help="BLAS threads for NumPy and torch "
                        "(default: NumPy's current)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="rank by process CPU time, not wall time (use with --threads 1 on "
                             "a busy machine: other processes then do not distort the ratio); "
                             "both are recorded either way")
    args = parser.parse_args(argv)
    if args.against:
        if not args.compare:
            parser.error("--against needs --compare BEFORE.json")
        return _report_comparison(args.compare, _load(args.against))
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")

    import torch

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    threads = blas_threads()
    torch.set_num_threads(threads)
    rounds = args.rounds or (7 if args.quick else 15)
    target_s = 0.12 if args.quick else 0.3
    clock = "cpu" if args.cpu_time else "wall"
    peers = [] if args.no_dezero or not dezero_available() else ["dezero"]
    keys = args.only.split(",") if args.only else [c.key for c in CASES]
    unknown = sorted(set(keys) - {c.key for c in CASES})
    if unknown:
        parser.error(f"--only: unknown model ids {unknown}; known: "
                     f"{','.join(c.key for c in CASES)}")
    cases = [c for c in CASES if c.key in keys]
    machine = (f"{platform.processor() or platform.machine()}, {threads} BLAS threads, "
               f"{'CPU' if clock == 'cpu' else 'wall'} time, {rounds} rounds")
    print(f"deepgrad vs torch {torch.__version__}, numpy {np.__version__}, {machine}")
    print("ratio: torch time / deepgrad time per round (>1: deepgrad faster), median "
          "[quartiles]; GEMM: the step's GEMMs alone / the step (deepgrad, torch)")
    if not peers:
        print("(DeZero not installed or --no-dezero: pip install -e '.[bench]' to add it)")
    other = "wall" if clock == "cpu" else "cpu"
    header = (f"{'id':<3}{'model':<42}{'batch':>6}{'deepgrad/s':>11}{'torch/s':>10}"
              f"{'ratio':>18}{other:>7}{'GEMM':>7}{'t':>6}")
    header += "".join(f"{'vs ' + p:>18}" for p in peers)
    if not args.no_memory:
        header += f"{'MiB dg':>8}{'t':>7}"
    print(header)
    rows = []
    for case in cases:
        row = _training_row(case, peers, rounds, target_s, clock, not args.no_memory)
        rows.append(row)
        _print_row(row, peers)
    inference = []
    for case in [] if args.no_inference else [c for c in cases if c.key in ("C", "D")]:
        fns = {n: make_inference(Framework(n), case) for n in ("deepgrad", "torch")}
        s = interleaved(fns, max(3, rounds // 2), 1, warmup=1)
        ratio = summarize(paired_ratios(s["deepgrad"], s["torch"], clock))
        dg = summarize(per_round(s["deepgrad"], clock, 1000))
        th = summarize(per_round(s["torch"], clock, 1000))
        inference.append({"id": case.key, "deepgrad_samples_per_s": dg.median,
                          "torch_samples_per_s": th.median, "ratio": ratio.median,
                          "ratio_stats": ratio.as_dict()})
        print(f"inference {case.key} batch 1000: deepgrad {dg.median:.0f}/s, torch "
              f"{th.median:.0f}/s, ratio {ratio.text()}")
    micro = [] if args.no_micro else micro_benchmarks(rounds, clock)
    for m in micro:
        print(f"  {m['op']:<48} deepgrad {m['deepgrad_ms']:8.2f} ms  torch {m['torch_ms']:8.2f} ms"
              f"  ratio {Summary.from_dict(m['ratio_stats']).text()}")
    result = {"machine": machine, "clock": clock, "threads": threads, "rounds": rounds,
              "torch": torch.__version__, "numpy": np.__version__, "peers": peers,
              "training": rows, "inference": inference, "micro": micro}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    if args.compare:
        return _report_comparison(args.compare, result)
    return 0


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"run.py: cannot read results file {path}: {exc}") from exc
    if not isinstance(data, dict) or "training" not in data:
        raise SystemExit(f"run.py: {path} is not a results file of benchmarks/run.py --json "
                         f"(no 'training' list)")
    return data


def _report_comparison(before_path: str, after: dict[str, Any]) -> int:
    lines, regressions = compare(_load(before_path), after)
    print(f"compared with {before_path} (noise: {NOISE_SIGMAS:g} standard errors of the "
          f"difference of the medians from both runs' spreads, at least "
          f"{RUN_TO_RUN_FLOOR:.0%} between separate runs; benchmarks/ab.py for a precise "
          f"before/after in one session)")
    for line in lines:
        print("  " + line)
    print(f"{regressions} regression(s) beyond the noise")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
