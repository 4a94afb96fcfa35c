"""Run a sweep: the sweep folder, sweep.csv, resume, Ctrl-C, the summary and the report.

The sweep folder (``sweeps/<name>`` by default, ``sweeps/<name>-quick``
with ``--quick``) holds:

- ``sweep.yaml``: the sweep as run (profile merged), ``sweep.json``: its trials;
- ``runs/<trial>-<timestamp>/``: one ordinary run folder per trial;
- ``sweep.csv``: one row per trial (varied values, seed, status, epochs,
  wall time, final metrics, error, run folder), rewritten atomically after
  every change, so it is consistent whenever the sweep stops;
- ``summary.csv``: per variant, mean and std of every final metric over seeds;
- ``report/``: the multi-run comparison page;
- ``optuna.db``: the study, for searches (unless ``search.storage`` says otherwise).

Re-running the same command resumes: finished trials are read back from
their run folders, interrupted ones continue from their last checkpoint,
failed ones run again. The folder is tied to its sweep (``sweep.json``
keeps a fingerprint of every trial), so an edited sweep file is not mixed
with old results by accident.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgrad.atomic import atomic_write_text
from deepgrad.lab.process import FolderBusy, folder_lock, sigterm_as_interrupt
from deepgrad.lab.run_folder import RunFolder

from .results import NOT_METRICS, _csv_text, format_summary, metric_columns, read_csv, summarize
from .reuse import FinishedRuns
from .spec import SweepError, SweepSpec, Trial, expand, load_sweep
from .trial import TrialTask, find_run_dir, read_outcome

__all__ = ["SweepResult", "run_sweep", "default_out", "summarize", "read_csv"]

STATUSES = ("pending", "running", "completed", "failed", "pruned", "interrupted")
FINISHED = ("completed", "pruned")


@dataclass
class SweepResult:
    """What ``run_sweep`` returns: where everything is and how the trials ended."""

    sweep_dir: Path
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    interrupted: bool = False
    report: Path | None = None
    best: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def csv(self) -> Path:
        return self.sweep_dir / "sweep.csv"

    @property
    def ok(self) -> bool:
        """Every trial finished (completed or pruned) and nothing was interrupted."""
        return not self.interrupted and all(r["status"] in FINISHED for r in self.rows)

    def __repr__(self) -> str:
        done = ", ".join(f"{s}={n}" for s, n in self.counts.items() if n)
        return f"SweepResult({str(self.sweep_dir)!r}, trials={len(self.rows)}, {done})"

    def _repr_html_(self) -> str:
        """Jupyter's view: trials by status and each variant's mean ± std."""
        from deepgrad.notebook.run_view import sweep_html

        return sweep_html(self)


def default_out(spec: SweepSpec) -> Path:
    """``sweeps/<name>``, or ``sweeps/<name>-<profile>`` for a profile run."""
    suffix = f"-{spec.profile}" if spec.profile else ""
    return Path("sweeps") / f"{spec.name}{suffix}"


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    """One sweep process per folder (an OS lock: released even when the process is killed)."""
    held = contextlib.ExitStack()
    try:
        held.enter_context(folder_lock(folder, "sweep"))
    except FolderBusy:
        raise SweepError(
            f"{folder}: another sweep process is running in this folder; wait for it, "
            "or give --out a different folder"
        ) from None
    with held:
        yield


# ----------------------------------------------------------------------------- the sweep


class _Sweep:
    """State of one sweep run: rows, the csv, the search, the backend loop."""

    def __init__(self, spec: SweepSpec, sweep_dir: Path, limit: int | None,
                 reuse: FinishedRuns | None = None) -> None:
        self.spec = spec
        self.reuse = reuse
        self.reused: list[tuple[str, Path]] = []  # (trial, the run it was copied from)
        self.dir = sweep_dir
        self.runs_root = sweep_dir / "runs"
        self.limit = limit
        self.varied = spec.varied
        self.rows: dict[str, dict[str, Any]] = {}
        self.trials: dict[str, Trial] = {}
        self.search: Any = None
        self.started = 0  # trials submitted by this process

    # ------------------------------------------------------------------ rows and csv
    def _row(self, trial: Trial) -> dict[str, Any]:
        row: dict[str, Any] = {"trial": trial.trial_id, "index": trial.index,
                               "variant": trial.variant}
        for key in self.varied:
            row[key] = trial.overrides.get(key)
        row.update(seed=trial.seed, status="pending", epochs=None, wall_time=None, final={},
                   error=None, run_dir=None)
        return row

    def add(self, trial: Trial) -> dict[str, Any]:
        self.trials[trial.trial_id] = trial
        row = self._row(trial)
        self.rows[trial.trial_id] = row
        return row

    def columns(self) -> list[str]:
        rows = list(self.rows.values())
        head = ["trial", "variant", *self.varied, "seed", "status", "epochs", "wall_time"]
        return [*head, *metric_columns(rows), "error", "run_dir"]

    def flat_rows(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows.values():
            flat = {k: v for k, v in row.items() if k != "final"}
            flat.update(row.get("final") or {})
            out.append(flat)
        return out

    def write_csv(self) -> None:
        atomic_write_text(self.dir / "sweep.csv", _csv_text(self.flat_rows(), self.columns()))

    def record(self, trial_id: str, result: dict[str, Any]) -> dict[str, Any]:
        """Put a worker's result into the trial's row."""
        row = self.rows[trial_id]
        run_dir = result.get("run_dir")
        run_path = Path(run_dir) if run_dir else find_run_dir(self.runs_root, trial_id)
        outcome = read_outcome(run_path)
        final = result.get("final") or outcome.get("final") or {}
        wall = outcome.get("run_wall_time") or result.get("wall_time")
        row.update(
            status=result.get("status", "failed"),
            error=result.get("error"),
            final={k: v for k, v in final.items() if k not in NOT_METRICS},
            epochs=result.get("epochs", outcome.get("epochs")),
            wall_time=wall,
            run_dir=self._rel(run_path),
        )
        return row

    def _rel(self, path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return str(path.resolve().relative_to(self.dir.resolve()))
        except ValueError:
            return str(path)

    # ------------------------------------------------------------------ folder and resume
    def check_folder(self, trials: list[Trial]) -> None:
        """Refuse a folder that holds a different sweep; write sweep.yaml and sweep.json."""
        import yaml

        meta_path = self.dir / "sweep.json"
        keys = {t.trial_id: t.key for t in trials}
        base_key = _base_key(self.spec)
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text())
            except ValueError:
                meta = {}
            old = meta.get("trials") or {}
            changed = [t for t, k in keys.items() if t in old and old[t] != k]
            missing = [t for t in old if t not in keys]
            if changed or missing or meta.get("base_key", base_key) != base_key:
                what = (changed or missing or ["the base config or search"])[0]
                raise SweepError(
                    f"{self.dir} holds a different sweep ({what} differs from "
                    f"{self.spec.source or self.spec.name}); give --out a new folder, or delete "
                    "the old one to start over"
                )
        meta = {
            "name": self.spec.name,
            "profile": self.spec.profile,
            "source": str(self.spec.source) if self.spec.source else None,
            "base_key": base_key,
            "trials": keys,
        }
        atomic_write_text(meta_path, json.dumps(meta, indent=1))
        atomic_write_text(self.dir / "sweep.yaml", yaml.safe_dump(self.spec.raw, sort_keys=False))

    def plan(self, trial: Trial) -> TrialTask | None:
        """The task that (re)runs ``trial``, or None when its run folder says it is finished."""
        run_dir = find_run_dir(self.runs_root, trial.trial_id)
        if run_dir is None and self.reuse is not None:
            source = self.reuse.find(trial.config)
            if source is not None:
                run_dir = self.reuse.adopt(source, self.runs_root, trial.trial_id)
                self.reused.append((trial.trial_id, source))
        outcome = read_outcome(run_dir)
        if run_dir is not None and outcome.get("run_status") == "completed":
            self.record(trial.trial_id, {"status": "completed", "run_dir": str(run_dir)})
            return None
        resume = None
        if run_dir is not None:
            if RunFolder(run_dir).checkpoint_files():  # resume takes the newest intact one
                resume = str(run_dir)
            else:  # started but never checkpointed: nothing to keep
                shutil.rmtree(run_dir, ignore_errors=True)
        return TrialTask(
            trial_id=trial.trial_id,
            config=trial.config,
            runs_root=str(self.runs_root.resolve()),
            trainer=self.spec.trainer,
            resume_dir=resume,
        )


def _base_key(spec: SweepSpec) -> str:
    from .spec import config_hash

    search = None
    if spec.search is not None:
        search = {k: repr(v) for k, v in spec.search.params.items()}
    return config_hash({"base": spec.base, "search": search})


def _make_backend(
    backend: str, workers: int, address: str | None, num_cpus: float, threads: int | None
) -> Any:
    if backend == "local":
        from .local import LocalBackend

        return LocalBackend(workers=workers, threads=threads)
    if backend == "ray":
        from .ray_backend import RayBackend

        return RayBackend(address, workers=workers, num_cpus=num_cpus, threads=threads)
    raise SweepError(f"sweep: unknown backend {backend!r}; expected local or ray")


def _progress(total: int, initial: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc=name, unit="trial", dynamic_ncols=True,
                file=sys.stderr)


def run_sweep(
    source: SweepSpec | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    quick: bool = False,
    overrides: dict[str, Any] | None = None,
    limit: int | None = None,
    num_cpus: float = 1.0,
    threads: int | None = None,
    report: bool = True,
    progress: bool = True,
    grace: float = 30.0,
    log: Any = None,
    reuse: list[str | os.PathLike[str]] | None = None,
) -> SweepResult:
    """Run (or resume) every trial of a sweep and write sweep.csv, summary.csv and the report.

    ``source``: a sweep file or a parsed ``SweepSpec``. ``quick`` uses the
    file's quick profile. ``limit`` runs at most that many trials now (the
    rest stay pending for the next run). ``log`` is where messages go
    (default stderr). Ctrl-C (or SIGTERM) stops the running trials cleanly
    and returns with ``interrupted=True``; sweep.csv is consistent either way.
    ``reuse``: folders of finished runs (other sweeps, ``deepgrad train``
    runs); a trial that one of them already trained, config for config, is
    copied in instead of trained (``reuse.py``).
    """
    say = log or (lambda text: print(text, file=sys.stderr))
    if isinstance(source, SweepSpec):
        spec = source
    else:
        spec = load_sweep(source, profile="quick" if quick else None, overrides=overrides)
    sweep_dir = Path(out) if out is not None else default_out(spec)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    finished = None
    if reuse:
        if spec.search is not None or spec.trainer != TrialTask.trainer:
            raise SweepError("--reuse takes runs of the default trainer for grid, list and "
                             "random sweeps; an Optuna search or a custom trainer trains them "
                             "all")
        finished = FinishedRuns(list(reuse))
    state = _Sweep(spec, sweep_dir, limit, finished)
    with _lock(sweep_dir):
        trials = expand(spec)
        state.check_folder(trials)
        queue: list[TrialTask] = []
        if spec.search is not None:
            from .optuna_search import OptunaSearch

            state.search = OptunaSearch(spec, sweep_dir)
            for trial, opt_state in state.search.trials():
                row = state.add(trial)
                if opt_state == "RUNNING":
                    task = state.plan(trial)
                    if task is None:  # finished but never told (the sweep died in between)
                        state.search.tell(trial, {"status": "completed", **_final_of(row)})
                    else:
                        task.optuna = state.search.worker_info(trial)
                        queue.append(task)
                else:
                    run_dir = find_run_dir(state.runs_root, trial.trial_id)
                    status = {"COMPLETE": "completed", "PRUNED": "pruned"}.get(opt_state, "failed")
                    state.record(trial.trial_id, {"status": status, "run_dir": run_dir})
        else:
            for trial in trials:
                state.add(trial)
                task = state.plan(trial)
                if task is not None:
                    queue.append(task)
        state.write_csv()

        total = spec.search.n_trials if spec.search is not None else len(trials)
        done = sum(1 for r in state.rows.values() if r["status"] in FINISHED)
        say(f"sweep {spec.name}{' (quick)' if spec.profile == 'quick' else ''}: "
            f"{total} trial(s), {done} already finished, folder {sweep_dir}")
        for trial_id, source in state.reused:
            say(f"{trial_id}: the same training as {source}, copied in (--reuse)")
        interrupted = False
        runner = None
        bar = None
        try:
            with sigterm_as_interrupt():
                runner = _make_backend(backend, workers, address, num_cpus, threads)
                say(f"backend {runner.describe()}")
                bar = _progress(total, done, spec.name, progress)
                _loop(state, runner, queue, bar)
        except KeyboardInterrupt:
            interrupted = True
            say("interrupted: stopping running trials (they keep their checkpoints) ...")
            if runner is not None:
                with sigterm_as_interrupt():
                    for result in runner.shutdown(grace=grace):
                        _finish(state, result)
            for row in state.rows.values():
                if row["status"] == "running":
                    row["status"] = "interrupted"
            state.write_csv()
            say(f"sweep.csv is up to date; run the same command again to resume ({sweep_dir})")
        finally:
            if bar is not None:
                bar.close()
            if runner is not None and hasattr(runner, "close"):
                runner.close()

        rows = list(state.rows.values())
        summary = summarize(rows, state.varied)
        metrics = metric_columns(rows)
        sum_cols = ["variant", *state.varied, "n", "seeds"]
        for m in metrics:
            sum_cols += [f"{m}_mean", f"{m}_std"]
        atomic_write_text(sweep_dir / "summary.csv", _csv_text(summary, sum_cols))
        best = state.search.best() if state.search is not None else None
        report_path = None
        if report and not interrupted and any(r["status"] == "completed" for r in rows):
            _write_figures(state, summary, say)
            report_path = _write_report(state, summary, say)

    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    say(format_summary(summary, spec.metric, spec.direction))
    say(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return SweepResult(sweep_dir, rows, summary, interrupted, report_path, best, counts)


def _final_of(row: dict[str, Any]) -> dict[str, Any]:
    return {"final": row.get("final") or {}}


def _finish(state: _Sweep, result: dict[str, Any]) -> dict[str, Any]:
    trial_id = result.get("trial_id")
    if trial_id not in state.rows:
        return {}
    row = state.record(trial_id, result)
    if state.search is not None:
        state.search.tell(state.trials[trial_id], result)
    state.write_csv()
    return row


def _loop(state: _Sweep, runner: Any, queue: list[TrialTask], bar: Any) -> None:
    """Keep ``capacity`` trials running until the queue (and the search) is exhausted."""
    budget = state.limit if state.limit is not None else math.inf

    def next_task() -> TrialTask | None:
        if state.started >= budget:
            return None
        if queue:
            return queue.pop(0)
        if state.search is not None and state.search.remaining() > 0:
            trial = state.search.ask()
            state.add(trial)
            task = state.plan(trial)
            if task is not None:
                task.optuna = state.search.worker_info(trial)
            return task
        return None

    while True:
        while len(runner.running()) < runner.capacity:
            task = next_task()
            if task is None:
                break
            state.started += 1
            state.rows[task.trial_id]["status"] = "running"
            runner.submit(task)
            state.write_csv()
        if not runner.running():
            break
        for result in runner.poll(timeout=1.0):
            row = _finish(state, result)
            if bar is not None:
                if row.get("status") in FINISHED:
                    bar.update(1)
                failed = sum(1 for r in state.rows.values() if r["status"] == "failed")
                bar.set_postfix(running=len(runner.running()), failed=failed, refresh=True)
            if row.get("status") == "failed":
                print(f"\ntrial {row['trial']} failed: {row.get('error')}", file=sys.stderr)


def _write_figures(state: _Sweep, summary: list[dict[str, Any]], say: Any) -> None:
    """metric-vs-setting figures with error bars (never fails the sweep)."""
    try:
        from .figures import write_figures

        for path in write_figures(state.dir, summary, state.varied, state.spec.metric,
                                  state.spec.name):
            say(f"figure: {path}")
    except Exception as exc:  # noqa: BLE001 - matplotlib missing or a plotting problem
        say(f"figures: not written ({type(exc).__name__}: {exc})")


def _write_report(state: _Sweep, summary: list[dict[str, Any]], say: Any) -> Path | None:
    """The sweep's report.html: the sweep explorer, then the finished trials compared (never
    fails the sweep)."""
    try:
        from deepgrad.lab import report as report_mod
    except ImportError:
        return None
    write = getattr(report_mod, "write_report", None)
    if write is None:
        return None
    if not any(row["status"] in FINISHED and row.get("run_dir")
               for row in state.rows.values()):
        return None
    out = state.dir / RunFolder.REPORT
    try:
        result = write(state.dir, out=out)  # the sweep explorer, then the trials' runs
    except Exception as exc:  # noqa: BLE001 - a report problem must not lose the sweep
        say(f"report: not written ({type(exc).__name__}: {exc})")
        return None
    path = Path(result) if isinstance(result, (str, os.PathLike)) else out
    say(f"report: {path}")
    return path
