"""The Ray backend: each trial is a Ray task, so one sweep can use many machines.

``--address`` joins an existing cluster (``ray start --head`` on one
machine, ``ray start --address=HEAD:6379`` on the others); without it a
local Ray instance is started for the sweep and shut down after. A Ray
instance that is already initialised in this process (a notebook, a test)
is used as it is.

The trial function is the same as the local backend's (``run_trial``), so
the same seeds give the same metrics. Trials write their run folders to
the sweep folder, which every node must see at the same path (a shared
file system); an Optuna search across machines also needs a storage they
all reach (an RDB URL such as ``postgresql://...``; sqlite only works on
one machine or a shared disk that supports file locks).
"""

from __future__ import annotations

import os
import time
from typing import Any

from .trial import TrialTask, run_trial

__all__ = ["RayBackend"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "the Ray backend needs ray: pip install 'deepgrad[ray]'"
        ) from exc
    return ray


class RayBackend:
    """Run trials as Ray tasks with ``num_cpus`` each; ``capacity`` bounds those in flight."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        num_cpus: float = 1.0,
        threads: int | None = None,
    ) -> None:
        ray = _ray()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self._owns = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                kwargs["address"] = "local"
            else:
                kwargs["address"] = address
            ray.init(**kwargs)
            self._owns = True
        self.ray = ray
        self.num_cpus = float(num_cpus)
        total = float(ray.cluster_resources().get("CPU", 1.0))
        slots = max(1, int(total // self.num_cpus))
        self.workers = min(workers, slots) if workers else slots
        self.threads = threads or max(1, int(self.num_cpus))
        self._remote = ray.remote(num_cpus=self.num_cpus, max_retries=0)(run_trial)
        self._refs: dict[Any, tuple[TrialTask, float]] = {}

    @property
    def capacity(self) -> int:
        return self.workers

    def describe(self) -> str:
        where = self.ray.get_runtime_context().gcs_address
        return f"ray at {where}: {self.workers} trial(s) at a time x {self.num_cpus:g} CPU"

    def running(self) -> list[str]:
        return [task.trial_id for task, _ in self._refs.values()]

    def submit(self, task: TrialTask) -> None:
        task.threads = task.threads or self.threads
        ref = self._remote.remote(task)
        self._refs[ref] = (task, time.time())

    def poll(self, timeout: float | None = None) -> list[dict[str, Any]]:
        if not self._refs:
            return []
        ready, _ = self.ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready:  # collect everything else that is done too, without waiting
            more, _ = self.ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
            ready = list(dict.fromkeys([*ready, *more]))
        return [self._collect(ref) for ref in ready]

    def _collect(self, ref: Any) -> dict[str, Any]:
        task, started = self._refs.pop(ref)
        ray = self.ray
        try:
            result = ray.get(ref)
            if isinstance(result, dict):
                return result
            error = f"trial returned {type(result).__name__}, not a result"
            status = "failed"
        except ray.exceptions.TaskCancelledError:
            status, error = "interrupted", "cancelled by the sweep"
        except ray.exceptions.RayTaskError as exc:
            status, error = "failed", str(getattr(exc, "cause", None) or exc).splitlines()[0]
        except ray.exceptions.RayError as exc:  # worker crashed, node died, out of memory
            status, error = "failed", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return {
            "trial_id": task.trial_id,
            "status": status,
            "error": error[:500],
            "run_dir": None,
            "final": {},
            "epochs": None,
            "wall_time": time.time() - started,
        }

    def stop(self, trial_id: str) -> None:
        for ref, (task, _) in self._refs.items():
            if task.trial_id == trial_id:
                self.ray.cancel(ref)  # KeyboardInterrupt in the task: it stops cleanly

    def shutdown(self, grace: float = 30.0) -> list[dict[str, Any]]:
        for ref in list(self._refs):
            self.ray.cancel(ref)
        results: list[dict[str, Any]] = []
        deadline = time.time() + grace
        try:
            while self._refs and time.time() < deadline:
                results += self.poll(timeout=max(0.0, min(1.0, deadline - time.time())))
        except KeyboardInterrupt:
            pass
        for ref in list(self._refs):
            self.ray.cancel(ref, force=True)
            results.append(self._collect(ref))
        self.close()
        return results

    def close(self) -> None:
        """Shut down the Ray instance if this backend started it."""
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()
            self._owns = False
