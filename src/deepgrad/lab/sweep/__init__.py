"""Sweeps: many runs of one config with some settings varied, on one machine or many.

``deepgrad sweep FILE`` (or ``run_sweep(FILE)``) expands a sweep file
(``spec``) into trials, runs each as an ordinary run folder on a backend
(``local``: a process pool; ``ray``: Ray tasks), and writes sweep.csv,
a mean ± std summary over seeds and a comparison report (``runner``).
An Optuna search (``optuna_search``) asks for trials instead of expanding them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .runner import SweepResult, default_out, read_csv, run_sweep, summarize
from .spec import (
    Distribution,
    SweepError,
    SweepSpec,
    Trial,
    Variant,
    expand,
    load_sweep,
    parse_sweep,
)

__all__ = [
    "Distribution",
    "SweepError",
    "SweepResult",
    "SweepSpec",
    "Trial",
    "Variant",
    "add_parser",
    "default_out",
    "expand",
    "load_sweep",
    "main",
    "parse_sweep",
    "read_csv",
    "run_sweep",
    "summarize",
]

EPILOG = """\
examples:
  deepgrad sweep experiments/sweeps/004-moons-hidden.yaml --quick --workers 2
  deepgrad sweep my-sweep.yaml --backend ray --address 10.0.0.1:6379 --out /shared/sweeps/a
  deepgrad sweep my-sweep.yaml --dry-run          # list the trials, run nothing
  deepgrad sweep experiments/sweeps/001-pooling.yaml --reuse sweeps/   # shared trials once
Re-running the same command resumes the sweep in its folder.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to a ``deepgrad`` CLI's subparsers."""
    p = subparsers.add_parser(
        "sweep",
        help="run a sweep file: grid, list, random or Optuna search, locally or on Ray",
        description="Run every trial of a sweep file as a run folder under the sweep folder, "
        "then write sweep.csv, summary.csv (mean ± std over seeds) and a comparison report.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=main)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the sweep file (YAML)")
    p.add_argument("--workers", type=int, default=1,
                   help="trials at a time (local: processes; ray: at most this many tasks)")
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join (e.g. 10.0.0.1:6379); none starts a local one")
    p.add_argument("--num-cpus", type=float, default=1.0, help="CPUs per trial on Ray")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads per trial (default: cores // workers)")
    p.add_argument("--out", default=None,
                   help="the sweep folder (default sweeps/<name>, sweeps/<name>-quick)")
    p.add_argument("--quick", action="store_true",
                   help="the file's quick profile: a subset and few epochs")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override the base config, e.g. --set epochs=3 (repeatable)")
    p.add_argument("--limit", type=int, default=None,
                   help="run at most N trials now; the rest stay pending for the next run")
    p.add_argument("--reuse", action="append", default=[], metavar="FOLDER",
                   help="take a trial that a completed run under FOLDER (another sweep, "
                   "deepgrad train runs) already trained, same config and seed, instead of "
                   "training it again (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="list the trials and exit")
    p.add_argument("--no-report", action="store_true", help="skip the comparison report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _overrides(items: list[str]) -> dict[str, Any]:
    from deepgrad.lab.config import ConfigError, parse_override

    out: dict[str, Any] = {}
    for text in items:
        try:
            path, value = parse_override(text)
        except ConfigError as exc:
            raise SweepError(str(exc)) from None
        out[".".join(path)] = value
    return out


def main(args: argparse.Namespace) -> int:
    """Run the ``sweep`` subcommand; returns the exit status (130 when interrupted)."""
    try:
        overrides = _overrides(args.overrides)
        profile = "quick" if args.quick else None
        spec = load_sweep(args.file, profile=profile, overrides=overrides)
        if args.dry_run:
            trials = expand(spec)
            if spec.search is not None:
                print(f"{spec.name}: Optuna search, {spec.search.n_trials} trials over "
                      f"{', '.join(spec.search.params)} ({spec.search.direction} "
                      f"{spec.search.metric})")
            for t in trials:
                print(f"{t.trial_id}\t{t.overrides}")
            print(f"{len(trials)} trial(s); folder {args.out or default_out(spec)}")
            return 0
        result = run_sweep(
            spec,
            out=args.out,
            workers=args.workers,
            backend=args.backend,
            address=args.address,
            limit=args.limit,
            num_cpus=args.num_cpus,
            threads=args.threads,
            report=not args.no_report,
            progress=not args.quiet,
            reuse=args.reuse,
        )
    except SweepError as exc:
        print(f"deepgrad sweep: {exc}", file=sys.stderr)
        return 2
    if result.interrupted:
        return 130
    print(f"sweep.csv: {result.csv}")
    failed = result.counts.get("failed", 0)
    return 1 if failed else 0


def cli(argv: list[str] | None = None) -> int:
    """``python -m deepgrad.lab.sweep FILE ...`` (the same as ``deepgrad sweep``)."""
    parser = argparse.ArgumentParser(prog="deepgrad sweep")
    add_arguments(parser)
    return main(parser.parse_args(argv))
