"""The local backend: one process per trial, at most ``workers`` at a time.

Why not ``ProcessPoolExecutor``: a worker killed by the OS (out of memory,
``kill -9``) breaks the whole pool, and every other trial would fail with
it. Here each trial is its own process, so a dead one is recorded as
failed (with the signal that killed it) and the others go on.

Processes come from a fork server that has imported deepgrad once, so a
trial starts in milliseconds, not the seconds a fresh interpreter takes.
Each trial caps its BLAS threads so that workers x threads <= cores. The
sweep process alone decides when trials stop: workers ignore Ctrl-C (the
terminal sends it to the whole process group) and stop on the SIGTERM the
sweep sends, and they stop by themselves if the sweep process dies.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .trial import TrialTask, cpu_count, run_trial

__all__ = ["LocalBackend", "threads_per_worker"]

_PRELOAD = [
    "deepgrad.lab.sweep.trial",
    "deepgrad.lab.experiment",
    "deepgrad.lab.zoo",
    "deepgrad.lab",
]


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """BLAS threads each worker may use so that workers x threads <= cores (at least 1)."""
    cores = cores or cpu_count()
    return max(1, cores // max(1, workers))


def _watch_parent() -> None:
    """Stop this trial when the sweep process dies (``kill -9``), so no orphan keeps writing."""
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)  # a clean stop: the run folder is left resumable
        time.sleep(30)
        os._exit(1)  # the trial ignored the stop; do not outlive the sweep by much

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()


def _child_main(task: TrialTask, conn: Connection) -> None:
    """Entry point of a trial process: signals, then the trial, then its result down the pipe."""
    stopping = {"done": False}

    def on_term(signum: int, frame: Any) -> None:
        if not stopping["done"]:  # once: a second SIGTERM must not break the clean-up
            stopping["done"] = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)
    _watch_parent()
    result = run_trial(task)
    try:
        conn.send(result)
    finally:
        conn.close()


@dataclass
class _Running:
    task: TrialTask
    process: Any
    conn: Connection
    started: float
    result: dict[str, Any] | None = None


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker killed by {name}"
    return f"worker exited with code {code} before reporting a result"


class LocalBackend:
    """Run trials in local processes, ``workers`` at a time."""

    name = "local"

    def __init__(
        self, workers: int = 1, threads: int | None = None, start_method: str | None = None
    ) -> None:
        if workers < 1:
            raise ValueError(f"sweep: --workers must be >= 1, got {workers}")
        self.workers = workers
        self.threads = threads or threads_per_worker(workers)
        if start_method is None:
            start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        self.ctx: Any = mp.get_context(start_method)
        if start_method == "forkserver":
            self.ctx.set_forkserver_preload(_PRELOAD)
        self._running: dict[str, _Running] = {}

    @property
    def capacity(self) -> int:
        return self.workers

    def describe(self) -> str:
        return f"local: {self.workers} worker(s) x {self.threads} BLAS thread(s)"

    def running(self) -> list[str]:
        return list(self._running)

    def submit(self, task: TrialTask) -> None:
        """Start ``task`` in a new process."""
        task.threads = task.threads or self.threads
        task.sys_path = task.sys_path or [p for p in sys.path if p]
        recv, send = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(
            target=_child_main, args=(task, send), name=f"trial-{task.trial_id}", daemon=False
        )
        process.start()
        send.close()  # the child holds the only write end: EOF when it dies
        self._running[task.trial_id] = _Running(task, process, recv, time.time())

    def poll(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Results of trials that ended, waiting up to ``timeout`` seconds for the first."""
        if not self._running:
            return []
        handles: list[Any] = []
        for r in self._running.values():
            handles += [r.conn, r.process.sentinel]
        ready = set(wait(handles, timeout))
        done = []
        for trial_id, r in list(self._running.items()):
            if r.conn in ready and r.result is None:
                r.result = self._receive(r)
            if r.process.sentinel in ready or (r.result is not None and not r.process.is_alive()):
                if r.result is None:
                    r.result = self._receive(r)
                r.process.join(timeout=10)
                done.append(self._finish(trial_id, r))
        return done

    @staticmethod
    def _receive(r: _Running) -> dict[str, Any] | None:
        try:
            if r.conn.poll():
                value = r.conn.recv()
                return value if isinstance(value, dict) else None
        except (EOFError, OSError):
            pass
        return None

    def _finish(self, trial_id: str, r: _Running) -> dict[str, Any]:
        del self._running[trial_id]
        r.conn.close()
        if r.result is not None:
            return r.result
        return {
            "trial_id": trial_id,
            "status": "failed",
            "error": _describe_exit(r.process.exitcode),
            "run_dir": None,
            "final": {},
            "epochs": None,
            "wall_time": time.time() - r.started,
        }

    def stop(self, trial_id: str) -> None:
        """Ask one trial to stop cleanly (it saves its state and reports ``interrupted``)."""
        r = self._running.get(trial_id)
        if r is not None and r.process.is_alive():
            try:
                os.kill(r.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def shutdown(self, grace: float = 30.0) -> list[dict[str, Any]]:
        """Stop every running trial: SIGTERM, wait up to ``grace`` s, then SIGKILL."""
        for trial_id in list(self._running):
            self.stop(trial_id)
        results: list[dict[str, Any]] = []
        deadline = time.time() + grace
        try:
            while self._running and time.time() < deadline:
                results += self.poll(timeout=max(0.0, min(1.0, deadline - time.time())))
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            pass
        for r in self._running.values():
            if r.process.is_alive():
                r.process.kill()
            r.process.join(timeout=5)
        for trial_id, r in list(self._running.items()):
            if r.result is None:
                r.result = self._receive(r)
            out = self._finish(trial_id, r)
            if out["status"] == "failed" and r.result is None:
                out["status"], out["error"] = "interrupted", "stopped by the sweep"
            results.append(out)
        return results
