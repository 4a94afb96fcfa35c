"""The run report: one self-contained HTML file per run, or per comparison of runs.

``write_report(run_dir)`` reads a run folder (the contract in docs/run-folder.md)
and writes ``report.html`` into it: a table of contents, the config and summary,
and every figure the run's data allows; sections whose data the run lacks are
a one-line note. Several runs give a comparison: final metrics and configs side
by side (differences highlighted), overlaid curves, then each run's sections.

The file works offline and alone: images are inlined as PNG/SVG data, CSS is
inline, the interactive views' JavaScript is inline and hand-written
(``static/``, allowed by its hash), there is no font and no link that leaves the
file (a Content-Security-Policy forbids it). The HTML comes from a Jinja2
template, autoescaped. docs/report.md describes the views.

From the command line (``deepgrad report``)::

    deepgrad report runs/mnist-cnn-20250101-120000
    deepgrad report runs/moons-* -o compare.html --open
    deepgrad report runs/mnist-cnn-20250101-120000 --png figures/
    deepgrad report sweeps/002-learning-rates        # the sweep explorer
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_report_parser", "build_report", "main", "run_command", "write_report"]

RunArg = Any  # a path to a run folder, or a loaded Run


def _load(run: RunArg) -> Any:
    from deepgrad.lab.report.sweep_data import SweepFolder, is_sweep_folder
    from deepgrad.lab.runs import load_run

    if isinstance(run, (str, os.PathLike)):
        path = Path(run).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"report: {path} is not a run folder (no such directory)")
        if is_sweep_folder(path):
            return SweepFolder(path)
        return load_run(path)
    return run


def _as_list(runs: RunArg | Sequence[RunArg]) -> list[Any]:
    if isinstance(runs, (str, os.PathLike)) or hasattr(runs, "metrics"):
        return [_load(runs)]
    loaded = [_load(r) for r in runs]
    if not loaded:
        raise ValueError("report: no runs given")
    return loaded


def build_report(runs: RunArg | Sequence[RunArg], png_dir: str | os.PathLike[str] | None = None
                 ) -> str:
    """The report's HTML text (``write_report`` writes it to a file)."""
    import deepgrad
    from deepgrad.lab.report.scripts import page_script, script_hash
    from deepgrad.lab.report.sections import (
        FigureMaker,
        Section,
        comparison_sections,
        run_sections,
        sweep_section,
        unique_labels,
    )
    from deepgrad.lab.report.sweep_data import SweepFolder

    given = _as_list(runs)
    sweeps = [x for x in given if isinstance(x, SweepFolder)]
    loaded = [x for x in given if not isinstance(x, SweepFolder)]
    for sweep in sweeps:
        loaded += sweep.finished_runs()
    maker = FigureMaker(Path(png_dir) if png_dir is not None else None)
    labels = unique_labels(loaded) if loaded else []
    sections: list[Section] = [sweep_section(sw, f"sweep{k}-" if len(sweeps) > 1 else "")
                               for k, sw in enumerate(sweeps, start=1)]
    if not loaded:
        title = f"Sweep report: {sweeps[0].name}"
        subtitle = str(sweeps[0].path.resolve())
    elif len(loaded) == 1 and not sweeps:
        sections = run_sections(loaded[0], labels[0], "", maker)
        title = f"Run report: {labels[0]}"
        subtitle = str(Path(loaded[0].path).resolve())
    else:
        sections += comparison_sections(loaded, labels, maker)
        for k, (run, label) in enumerate(zip(loaded, labels, strict=True), start=1):
            children = run_sections(run, label, f"run{k}-", maker, with_curves=True)
            sections.append(Section(f"run{k}", f"Run {k}: {label}", children=children))
        title = f"Comparison of {len(loaded)} runs"
        subtitle = " · ".join(labels)
        if sweeps:
            title = f"Sweep report: {', '.join(sw.name for sw in sweeps)}"
            subtitle = " · ".join(str(sw.path.resolve()) for sw in sweeps)
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    script = page_script()
    return _template().render(title=title, subtitle=subtitle, sections=sections,
                              version=deepgrad.__version__, generated=generated,
                              script=script, script_hash=script_hash(script))


def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False,
    )
    return env.get_template("report.html.j2")


def write_report(runs: RunArg | Sequence[RunArg], out: str | os.PathLike[str] | None = None,
                 png_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the HTML report of one run (or a comparison of several) and return its path.

    ``out`` defaults to ``<run>/report.html`` for one run and ``./report.html`` for
    several. ``png_dir`` also saves every figure there as a 200-dpi PNG (and the
    graph as SVG too), named ``<run>-<figure>.png``.
    """
    from deepgrad.atomic import atomic_write_bytes
    from deepgrad.lab.run_folder import RunFolder

    loaded = _as_list(runs)
    if out is None:  # one run or one sweep: inside its folder
        out = (Path(loaded[0].path) / RunFolder.REPORT if len(loaded) == 1
               else Path(RunFolder.REPORT))
    html = build_report(loaded, png_dir)
    path = Path(out)
    atomic_write_bytes(path, html.encode("utf-8"))
    return path


# ------------------------------------------------------------------ command line

_EXAMPLES = """\
examples:
  deepgrad report runs/mnist-cnn-20250101-120000
  deepgrad report runs/moons-sgd-* runs/moons-adam-* -o moons.html --open
  deepgrad report runs/mnist-cnn-20250101-120000 --png figures/
  deepgrad report sweeps/002-learning-rates
"""


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to a ``deepgrad`` subparsers object; the handler is ``args.func``."""
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report of one or more runs",
        description="Write one HTML file (offline, images inlined) with the config, summary "
                    "and every figure the run folders allow; several runs are compared.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(p)
    p.set_defaults(func=run_command)
    return p


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="run folder(s), or a sweep folder (sweep.csv): the sweep explorer")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the HTML file (default: RUN/report.html for one run, "
                        "./report.html for several)")
    p.add_argument("--png", metavar="DIR", help="also save each figure as a PNG in DIR")
    p.add_argument("--open", action="store_true", help="open the report in a web browser")


def run_command(args: argparse.Namespace) -> int:
    """Handler of ``deepgrad report``: write the report, print its path, maybe open it."""
    loaded = _as_list(args.runs)
    path = write_report(loaded, args.output, args.png)
    for run in loaded:  # what the report could not read, also on the terminal
        for problem in getattr(run, "problems", []):
            print(f"deepgrad report: warning: {problem}", file=sys.stderr)
    print(f"report: {path}")
    if args.png:
        print(f"figures: {args.png}")
    if args.open:
        webbrowser.open(path.resolve().as_uri())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m deepgrad.lab.report RUN [RUN ...] [-o FILE] [--png DIR] [--open]``."""
    parser = argparse.ArgumentParser(prog="deepgrad report", epilog=_EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"deepgrad report: error: {exc}", file=sys.stderr)
        return 2
