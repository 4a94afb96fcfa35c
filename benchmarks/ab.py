"""Two deepgrad trees against each other, interleaved round by round in one session.

    python benchmarks/ab.py --before /path/to/old/src [--after src] [--quick]
                            [--threads 1 --cpu-time] [--only C,D] [--json ab.json]
    python benchmarks/ab.py --before torch --threads 2      # deepgrad against torch

Two results files from runs minutes apart differ by the machine's drift as much as by
the code (on this project's shared 2-core machine, two runs of the *same* tree differed
by up to 15% in samples/s and 10% in the ratio to torch). So a before/after question is
answered here in one session: each tree runs in its own worker process
(``ab_worker.py``, ``PYTHONPATH`` pointing at that tree), and every round times a few
training steps of one worker, then of the other, the order alternating. The per-round
ratio before time / after time (> 1: the after tree is faster) cancels the drift, and its
spread gives the noise: a change is reported only beyond two standard errors of the
median. Exit status 1 when any model got slower beyond the noise.

``--before torch`` puts PyTorch in the first worker instead: deepgrad against torch with
each in its own process, which is how to compare them at more than one thread (in one
process, as ``run.py`` does, the spinning thread pools of OpenBLAS and torch's OpenMP
steal each other's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from timing import NOISE_SIGMAS, summarize

HERE = Path(__file__).resolve().parent


class Worker:
    """One tree's deepgrad (or torch) in a subprocess that answers JSON commands line by
    line."""

    def __init__(self, src: str, threads: int | None, framework: str = "deepgrad") -> None:
        if not (Path(src) / "deepgrad" / "__init__.py").is_file():
            raise SystemExit(f"ab.py: {src} is not a source tree with deepgrad/ in it "
                             f"(give the src folder of a checkout)")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(src).resolve()),
                                                           str(HERE)]))
        args = [sys.executable, str(HERE / "ab_worker.py"), "--framework", framework]
        if threads:
            args += ["--threads", str(threads)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)
        self.src = src

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"ab.py: the worker for {self.src} exited (see its error above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def compare_case(key: str, workers: dict[str, Worker], rounds: int, target_s: float,
                 clock: str, settle_s: float = 0.0) -> dict[str, Any]:
    info = {}
    for name, w in workers.items():
        info[name] = w.ask(cmd="build", key=key)
    once = max(w.ask(cmd="time", steps=1)["wall"] for w in workers.values())
    steps = max(1, min(20, int(target_s / max(once, 1e-5))))
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in workers}
    for r in range(rounds):
        order = list(workers) if r % 2 == 0 else list(reversed(list(workers)))
        for name in order:
            time.sleep(settle_s)  # the other worker's spinning BLAS/OpenMP threads go idle
            samples[name].append(workers[name].ask(cmd="time", steps=steps))
    batch = int(info["after"]["batch"])
    ratio = summarize([b[clock] / a[clock]
                       for b, a in zip(samples["before"], samples["after"], strict=True)])
    band = NOISE_SIGMAS * ratio.sem
    verdict = ("slower" if ratio.median < 1 - band else
               "faster" if ratio.median > 1 + band else "same")
    return {"id": key, "model": info["after"]["title"], "batch": batch, "steps": steps,
            "before_samples_per_s": summarize([batch / s[clock] for s in samples["before"]])
            .median,
            "after_samples_per_s": summarize([batch / s[clock] for s in samples["after"]])
            .median,
            "speedup_stats": ratio.as_dict(), "noise": band, "verdict": verdict,
            "rounds": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True,
                        help="the src folder of the old tree, or 'torch': PyTorch in its own "
                             "process (speedup = torch time / deepgrad time)")
    parser.add_argument("--after", default=str(HERE.parent / "src"),
                        help="the src folder of the new tree (default: this checkout's)")
    parser.add_argument("--quick", action="store_true", help="9 short rounds, not 15")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--only", help="comma-separated model ids, e.g. C,D")
    parser.add_argument("--threads", type=int, help="BLAS threads in both workers")
    parser.add_argument("--cpu-time", action="store_true", help="rank by CPU time")
    parser.add_argument("--settle", type=float,
                        help="seconds of rest before each timed round (default 0.2 with "
                             "--threads above 1: OpenBLAS and OpenMP threads spin-wait "
                             "for about 0.1 s after their last task, on the other worker's "
                             "cores; 0 otherwise)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    rounds = args.rounds or (9 if args.quick else 15)
    if rounds < 1:
        parser.error(f"--rounds must be >= 1, got {rounds}")
    clock = "cpu" if args.cpu_time else "wall"
    settle = args.settle if args.settle is not None else (
        0.2 if args.threads and args.threads > 1 else 0.0)
    before = (Worker(args.after, args.threads, framework="torch") if args.before == "torch"
              else Worker(args.before, args.threads))
    workers = {"before": before, "after": Worker(args.after, args.threads)}
    try:
        keys = args.only.split(",") if args.only else workers["after"].ask(cmd="keys")["keys"]
        print(f"before {args.before}\nafter  {args.after}\n{rounds} interleaved rounds, "
              f"{clock} time; speedup: before time / after time per round (>1: after "
              f"faster), median [quartiles]")
        print(f"{'id':<3}{'model':<42}{'before/s':>10}{'after/s':>10}{'speedup':>20}"
              f"{'noise':>8}  verdict")
        rows = []
        for key in keys:
            row = compare_case(key, workers, rounds, 0.12 if args.quick else 0.3, clock,
                               settle)
            rows.append(row)
            s = row["speedup_stats"]
            text = f"{s['median']:.3f} [{s['q1']:.3f}-{s['q3']:.3f}]"
            print(f"{key:<3}{row['model']:<42}{row['before_samples_per_s']:>10.0f}"
                  f"{row['after_samples_per_s']:>10.0f}{text:>20}{row['noise']:>8.3f}  "
                  f"{row['verdict']}", flush=True)
    finally:
        for w in workers.values():
            w.close()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"before": args.before, "after": args.after, "clock": clock,
                       "rounds": rounds, "threads": args.threads, "models": rows}, fh, indent=1)
    return 1 if any(r["verdict"] == "slower" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
