"""The ``deepgrad`` command: train, evaluate, list and inspect runs of the course models.

Every subcommand has ``--help`` with examples. User mistakes (an unknown
model, a bad ``--set`` key, missing data) print one line starting with
``deepgrad: error:`` and exit with status 2; no traceback. Set
``DEEPGRAD_DEBUG=1`` to see the traceback anyway. Heavy modules are
imported inside the commands, so ``deepgrad --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "UserError"]

EXIT_USER = 2


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'your input is wrong', not 'deepgrad is broken'."""
    types: list[type[BaseException]] = [UserError]
    try:
        from deepgrad.lab.config import ConfigError
        from deepgrad.lab.fingerprint import CheckpointMismatch
        from deepgrad.lab.fit import DataMismatch
        from deepgrad.lab.process import FolderBusy
        from deepgrad.lab.registry import UnknownName

        types += [ConfigError, CheckpointMismatch, DataMismatch, FolderBusy, UnknownName]
    except ImportError:
        pass
    try:
        from deepgrad.serialization import CheckpointError

        types.append(CheckpointError)  # a corrupt, truncated or pickled checkpoint
    except ImportError:
        pass
    try:
        from deepgrad.data import errors

        types += [errors.DatasetNotFoundError, errors.CorruptFileError, errors.DownloadError]
    except ImportError:
        pass
    return tuple(types)


#: errno values that mean "the disk (or the user's quota, or a size limit) is full".
_NO_SPACE = ("ENOSPC", "EDQUOT", "EFBIG")
_NOT_WRITABLE = ("EACCES", "EPERM", "EROFS")


def _os_mistake(exc: BaseException) -> str | None:
    """A one-line message for an OS error the user can fix (full disk, unwritable or
    missing path), or None for one that is a bug."""
    import errno

    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    code = errno.errorcode.get(exc.errno, "")
    where = f" {exc.filename}" if exc.filename else ""
    if code in _NO_SPACE:
        return (f"no space left writing{where} ({exc.strerror}); free some space or give "
                "--out a folder on another disk")
    if code in _NOT_WRITABLE:
        return f"cannot write{where} ({exc.strerror}); check the permissions or give --out"
    if isinstance(exc, FileNotFoundError | NotADirectoryError | IsADirectoryError):
        return _one_line(exc) if not exc.filename else f"{exc.strerror}:{where}"
    return None


def _one_line(exc: BaseException) -> str:
    """The first line of an error (dataset errors list every place looked at below it)."""
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    if len(lines) > 1 and "Looked in" in lines[0]:
        # A missing dataset: say what and the shortest remedy.
        return f"{lines[0].replace(' Looked in:', '')} (use --data-dir DIR or set $DEEPGRAD_DATA)"
    return lines[0]


# ----------------------------------------------------------------------------- train


def cmd_train(args: argparse.Namespace) -> int:
    from deepgrad.lab.config import load_config
    from deepgrad.lab.experiment import train, use_data_dir

    if args.resume:
        if (args.target or args.set or args.epochs is not None or args.seed is not None
                or args.name or args.out or args.checkpoint_every is not None):
            raise UserError("--resume RUN continues a run with its own config; drop the other "
                            "options (--data-dir, --quiet and --report may stay)")
        try:
            run_dir = train({}, resume=_existing_run(args.resume), data_dir=args.data_dir,
                            quiet=args.quiet or None, distributed=args.distributed)
        except KeyboardInterrupt as stop:
            print(f"deepgrad: interrupted; continue with: deepgrad train --resume "
                  f"{args.resume}", file=sys.stderr)
            return _interrupted_status(stop)
        return _after_train(run_dir, args)
    if not args.target:
        raise UserError("train: give a model name or a config file (deepgrad train --help)")
    overrides = list(args.set or [])
    if args.epochs is not None:
        overrides.append(f"epochs={args.epochs}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.checkpoint_every is not None:
        overrides.append(f"logging.checkpoint_steps={args.checkpoint_every}")
    if args.name:
        overrides.append(f"name={args.name}")
    config = load_config(args.target, overrides)
    if args.data_dir:
        use_data_dir(config, args.data_dir)
    if args.out:
        config.logging.out = args.out
    _check_writable(Path(config.logging.out), "--out" if args.out else "logging.out")
    if args.quiet:
        config.logging.progress = False
    import time

    started = time.time()
    try:
        run_dir = train(config, distributed=args.distributed)
    except KeyboardInterrupt as stop:
        stopped = _latest_run(Path(config.logging.out), config.run_name, started)
        hint = (f"; continue with: deepgrad train --resume {stopped}" if stopped
                else "; no checkpoint had been written yet")
        print(f"deepgrad: interrupted{hint}", file=sys.stderr)
        return _interrupted_status(stop)
    return _after_train(run_dir, args)


def _interrupted_status(stop: BaseException) -> int:
    """128 + the signal: 143 for SIGTERM (``kill PID``), 130 for Ctrl-C."""
    return 143 if "SIGTERM" in str(stop) else 130


def _check_writable(folder: Path, what: str) -> None:
    """Refuse an output folder that cannot be made or written, before any training."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UserError(f"{what} {folder}: cannot write there ({error.strerror or error})"
                        ) from None


def _latest_run(root: Path, name: str, since: float) -> Path | None:
    """The run folder of ``name`` made since ``since`` that has a checkpoint to resume from."""
    from deepgrad.lab.run_folder import RunFolder

    if not root.is_dir():
        return None
    candidates = sorted(
        (p for p in root.glob(f"{name}-*")
         if p.stat().st_ctime >= since - 1 and RunFolder(p).checkpoint_files()),
        key=lambda p: p.stat().st_mtime,
    )
    return candidates[-1] if candidates else None


def _after_train(run_dir: Path, args: argparse.Namespace) -> int:
    from deepgrad.lab.runs import load_run

    if args.distributed:
        from deepgrad import distributed

        if distributed.get_rank() != 0:
            return 0  # rank 0 prints and reports

    run = load_run(run_dir)
    summary = run.summary or {}
    final = summary.get("final", {}) or {}
    parts = []
    shown = [k for k in final if k.startswith("test_")] + [k for k in final if k.startswith("val_")]
    for key in [*shown, "train_loss"]:
        value = final.get(key)
        if isinstance(value, (int, float)):
            parts.append(f"{key} {value:.2%}" if "accuracy" in key else f"{key} {value:.4f}")
    wall = summary.get("wall_time")
    if wall is not None:
        parts.append(f"{wall:.1f} s")
    print(f"{run_dir}: {', '.join(parts) if parts else summary.get('status', 'done')}")
    if summary.get("status") == "failed":
        print(f"deepgrad: training failed: {summary.get('error') or 'see the log above'}",
              file=sys.stderr)
        return 1
    if args.report:
        import importlib

        try:
            write_report = importlib.import_module("deepgrad.lab.report").write_report
        except (ImportError, AttributeError):
            print("deepgrad: --report: the report module is not available", file=sys.stderr)
        else:
            path = write_report(run_dir)
            print(f"report: {path}")
    return 0


def _existing_run(text: str) -> Path:
    from deepgrad.lab.run_folder import RunFolder

    path = Path(text).expanduser()
    if not path.is_dir():
        raise UserError(f"{text}: no such run folder")
    if not RunFolder(path).config.is_file():
        raise UserError(f"{text}: not a run folder (no {RunFolder.CONFIG})")
    return path


# ----------------------------------------------------------------------------- eval


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from deepgrad.lab.experiment import evaluate_run

    run_dir = _existing_run(args.run)
    results = evaluate_run(
        run_dir, split=args.split, data_dir=args.data_dir, checkpoint=args.checkpoint
    )
    if args.json:
        print(json.dumps(results))
        return 0
    shown = ", ".join(
        f"{k} {v:.2%}" if "accuracy" in k else f"{k} {v:.4f}"
        for k, v in results.items()
        if isinstance(v, float)
    )
    print(f"{run_dir} [{args.split}, {results.get('checkpoint', 'last')}]: {shown}")
    return 0


# ----------------------------------------------------------------------------- runs


def cmd_runs(args: argparse.Namespace) -> int:
    from deepgrad.lab.runs import list_runs

    root = Path(args.root)
    if not root.is_dir():
        raise UserError(
            f"{args.root}: no such folder (train something first, or pass the runs folder)"
        )
    runs = list_runs(root)
    if not runs:
        print(f"no runs in {root}")
        return 0
    rows = []
    for run in runs:
        rows.append(_run_row(run))
        for problem in run.problems:  # a damaged file: named, and the listing goes on
            print(f"deepgrad: warning: {problem}", file=sys.stderr)
    if args.last:
        rows = rows[-args.last :]
    print(
        format_table(
            rows,
            [
                "run",
                "model",
                "status",
                "epochs",
                "val_acc",
                "test_acc",
                "test_loss",
                "time",
                "samples/s",
            ],
        )
    )
    return 0


def _run_row(run: Any) -> dict[str, str]:
    summary = run.summary or {}
    final = dict(summary.get("final", {}) or {})
    epochs = summary.get("epochs_completed", "-")
    wall = summary.get("wall_time")
    if summary.get("status") in (None, "running"):
        # summary.json is rewritten at the end (or is missing or damaged): read the log
        records = run.epochs or []
        if records:
            final.update(records[-1])
            epochs = records[-1].get("epoch", len(records))
            wall = sum(r.get("time", 0.0) for r in records)

    def pct(key: str) -> str:
        v = final.get(key)
        return f"{v:.2%}" if isinstance(v, (int, float)) else "-"

    def num(v: Any, fmt: str) -> str:
        return format(v, fmt) if isinstance(v, (int, float)) else "-"

    config = run.config or {}
    model = summary.get("model") or (config.get("model") or {}).get("name", "?")
    return {
        "run": run.path.name,
        "model": str(model),
        "status": str(summary.get("status", "?")),
        "epochs": str(epochs),
        "val_acc": pct("val_accuracy"),
        "test_acc": pct("test_accuracy"),
        "test_loss": num(final.get("test_loss"), ".4f"),
        "time": num(wall, ".1f") + ("s" if isinstance(wall, (int, float)) else ""),
        "samples/s": num(summary.get("samples_per_sec") or final.get("samples_per_sec"), ".0f"),
    }


def format_table(rows: list[dict[str, str]], columns: list[str]) -> str:
    """A plain fixed-width table (no dependency), header underlined."""
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines.append("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        lines.append("  ".join(r.get(c, "").ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


# ----------------------------------------------------------------------------- summary / models


def cmd_summary(args: argparse.Namespace) -> int:
    from deepgrad.lab import zoo
    from deepgrad.lab.config import ConfigError, apply_overrides, check_kwargs

    if args.model not in zoo.list_models():
        raise UserError(f"unknown model {args.model!r}; available: {', '.join(zoo.list_models())}")
    spec = zoo.get_spec(args.model)
    raw = apply_overrides({"model": {"name": spec.name}}, list(args.set or []))
    model_kwargs = {k: v for k, v in raw["model"].items() if k != "name"}
    if set(raw) != {"model"}:
        raise UserError("summary: only model.* keys can be --set here")
    kwargs = check_kwargs(model_kwargs, spec.builder, "model", label=spec.name)
    try:
        model = spec.builder(**kwargs)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print(f"{spec.name} (report {spec.report}): {spec.description}")
    print(model_table(model, spec.input_shape_for(kwargs), args.batch))
    return 0


def model_table(model: Any, input_shape: tuple[int, ...], batch: int = 1) -> str:
    """The ``deepgrad.summary`` table (layers, output shapes, parameters) as text."""
    from deepgrad.nn.summary import summary

    return str(summary(model, input_size=input_shape, batch_size=batch, verbose=0))


def cmd_models(args: argparse.Namespace) -> int:
    from deepgrad.lab import zoo

    rows = [
        {
            "model": s.name,
            "report": s.report,
            "params": f"{s.params:,}",
            "input": "x".join(map(str, s.input_shape)),
            "description": s.description,
        }
        for s in zoo.specs()
    ]
    print(format_table(rows, ["model", "report", "params", "input", "description"]))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    import yaml

    from deepgrad.lab.config import load_config

    config = load_config(args.target, list(args.set or []))
    sys.stdout.write(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return 0


# ----------------------------------------------------------------------------- parser

_MAIN_EXAMPLES = """\
examples:
  deepgrad train mnist-cnn                 # report 001's CNN on the embedded MNIST sample
  deepgrad train experiments/mnist-cnn.yaml --data-dir ../shared/datasets
  deepgrad runs                            # the runs so far, with their metrics
  deepgrad eval runs/mnist-cnn-20250101-120000
  deepgrad summary cifar-cnn               # layer table and parameter count
  deepgrad models                          # the course model zoo
  deepgrad report runs/mnist-cnn-20250101-120000   # an HTML report of a run
  deepgrad export runs/mnist-cnn-20250101-120000 -o mnist.onnx   # ONNX, for Netron/onnxruntime
"""

_TRAIN_EXAMPLES = """\
examples:
  deepgrad train mnist-cnn
  deepgrad train mlp --set model.widths=[784,200,10] --set optimizer.lr=0.01 --epochs 5
  deepgrad train experiments/cifar-cnn.yaml --data-dir ~/data --out runs/
  deepgrad train --resume runs/cifar-cnn-20250101-120000
  mpirun -n 2 deepgrad train mnist-cnn --distributed    # data-parallel on 2 MPI ranks

A model name runs its zoo default (see `deepgrad config NAME`): a short run on
the embedded MNIST/Fashion-MNIST sample where the model takes 28x28 digits.
--data-dir DIR switches a sample dataset to the full one found in DIR and
sets data.root for the others; without it, full datasets are looked up in
data.root, then $DEEPGRAD_DATA, then ~/.cache/deepgrad/datasets. With
--resume, --data-dir says where the run's own data set is now (it moved).
--set takes dotted keys (optimizer.lr=0.01, data.val_split=5000,
scheduler.name=step); values are YAML (0.01, [1, 2], null, true).
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``command`` (the subcommand about to run) loads lazy subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="deepgrad",
        description="Train, evaluate and inspect the course models on deepgrad.",
        epilog=_MAIN_EXAMPLES,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "train",
        help="train a zoo model or a config file",
        epilog=_TRAIN_EXAMPLES,
        formatter_class=fmt,
        description="Train a model and write a run folder.",
    )
    p.add_argument(
        "target",
        nargs="?",
        metavar="NAME_OR_CONFIG",
        help="a zoo model name (deepgrad models) or a YAML config file",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config value (repeatable), e.g. optimizer.lr=0.01",
    )
    p.add_argument("--epochs", type=int, help="number of epochs (same as --set epochs=N)")
    p.add_argument("--seed", type=int, help="random seed (same as --set seed=N)")
    p.add_argument("--name", help="run name prefix (default: the config's name or model)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the full datasets")
    p.add_argument("--out", metavar="DIR", help="folder for run folders (default: runs)")
    p.add_argument("--resume", metavar="RUN", help="continue a stopped run folder")
    p.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                   help="write the resumable `last` checkpoint every STEPS steps (default: "
                   "about every 30 s of training; 0: only at epoch ends)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--report", action="store_true", help="write the run's HTML report afterwards")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of an MPI job: mpirun -n N deepgrad train "
                        "CONFIG --distributed (batch_size is the global batch; rank 0 writes)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "eval",
        help="evaluate a run's checkpoint on a split",
        formatter_class=fmt,
        description="Evaluate a finished (or stopped) run on its test or validation split.",
        epilog="examples:\n  deepgrad eval runs/mnist-cnn-20250101-120000\n"
        "  deepgrad eval runs/mnist-cnn-20250101-120000 --split val --checkpoint best\n",
    )
    p.add_argument("run", metavar="RUN", help="a run folder")
    p.add_argument("--split", default="test", choices=["test", "val", "train"])
    p.add_argument(
        "--checkpoint",
        default="best",
        choices=["best", "last"],
        help="which checkpoint (default best; falls back to last)",
    )
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the full datasets")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "runs",
        help="table of runs with their key metrics",
        formatter_class=fmt,
        description="List the run folders under ROOT with their status and metrics.",
        epilog="examples:\n  deepgrad runs\n  deepgrad runs /tmp/runs --last 5\n",
    )
    p.add_argument("root", nargs="?", default="runs", help="the runs folder (default: runs)")
    p.add_argument("--last", type=int, metavar="N", help="only the N most recent runs")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "summary",
        help="layer table and parameter count of a zoo model",
        formatter_class=fmt,
        description="Print a zoo model's layers, output shapes and parameter count.",
        epilog="examples:\n  deepgrad summary mnist-cnn\n"
        "  deepgrad summary mlp --set model.widths=[3072,100,10]\n"
        "  deepgrad summary cifar-cnn --set model.pooling=avg\n",
    )
    p.add_argument("model", metavar="MODEL", help="a zoo model name (deepgrad models)")
    p.add_argument(
        "--set",
        action="append",
        metavar="model.KEY=VALUE",
        help="model argument, e.g. model.activation=selu",
    )
    p.add_argument("--batch", type=int, default=1, help="batch size for the shapes (default 1)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser(
        "models",
        help="list the course model zoo",
        formatter_class=fmt,
        description="The zoo: each report's models with their parameter counts.",
        epilog="examples:\n  deepgrad models\n",
    )
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "config",
        help="print the resolved config of a model or file",
        formatter_class=fmt,
        description="Print the full config `deepgrad train` would use, as YAML.",
        epilog="examples:\n  deepgrad config mnist-cnn > my.yaml\n"
        "  deepgrad config experiments/cifar-cnn.yaml --set epochs=1\n",
    )
    p.add_argument("target", metavar="NAME_OR_CONFIG")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_config)

    # `deepgrad sweep` and `deepgrad report` belong to deepgrad.lab.sweep / deepgrad.lab.report,
    # which build their own subparsers; they are imported only when that command is used, so
    # the other commands (and --help) start without loading the lab.
    helps = {
        "sweep": "run a sweep file: grid, list, random or Optuna search, locally or on Ray",
        "report": "write a self-contained HTML report of one or more runs",
        "export": "write a run's trained model as an ONNX file",
    }
    for name, text in helps.items():
        if name == command:
            if name == "sweep":
                from deepgrad.lab.sweep import add_parser as add_sweep_parser

                add_sweep_parser(sub)
            elif name == "export":
                from deepgrad.cli_export import add_export_parser

                add_export_parser(sub)
            else:
                from deepgrad.lab.report import add_report_parser

                add_report_parser(sub)
        else:
            sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deepgrad`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.version:
        from deepgrad import __version__

        print(f"deepgrad {__version__}")
        return 0
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USER
    debug = os.environ.get("DEEPGRAD_DEBUG", "") not in ("", "0")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("deepgrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `deepgrad runs | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, _user_errors()):
            print(f"deepgrad: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_USER
        mistake = _os_mistake(exc)
        if mistake is not None:
            print(f"deepgrad: error: {mistake}", file=sys.stderr)
            return EXIT_USER
        message = textwrap.shorten(f"{type(exc).__name__}: {exc}", 300)
        print(
            f"deepgrad: internal error: {message} (DEEPGRAD_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
