"""The process group: this process's place in an MPI job (rank, world size), via mpi4py.

``init_process_group(backend="mpi")`` is torch's call. MPI needs no
address or port: ``mpirun``/``srun`` started every rank and told each its
rank, so the world is read from the MPI environment (``MPI.COMM_WORLD``).
A script started without ``mpirun`` is a world of one (an MPI singleton),
so the same script runs alone too.

Failure. MPI's own rule is that a job whose rank *exits* is ended by the
launcher (``mpirun`` kills the other ranks and names the dead one). Two
cases it cannot see are handled here, so no rank ever waits forever:

- a rank that raises: the excepthook prints the traceback and calls
  ``MPI_Abort``, which ends every rank (otherwise the others would wait in
  their next collective for ever, the classic MPI deadlock);
- a rank that hangs (stopped, stuck, or cut off): every collective runs
  under a watchdog; one that has not finished after ``timeout`` prints
  which collective, rank and call waited, and aborts the job.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

DEFAULT_TIMEOUT = timedelta(minutes=30)
"""torch's default collective timeout for its CPU backends."""

BACKENDS = ("mpi",)


def is_available() -> bool:
    """True when mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(
            "deepgrad.distributed needs mpi4py and an MPI library: install OpenMPI "
            "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; or run "
            ".ci/mpi-deps.sh) and then pip install -e \".[mpi]\"") from error
    return MPI


class Watchdog:
    """Ends the job when one collective takes longer than ``timeout`` seconds.

    A daemon thread wakes every ``timeout / 10`` seconds (at most 1 s) and
    looks at the collective in flight, if any. The MPI call itself runs in
    the main thread with the GIL released (mpi4py releases it), so the
    watchdog can act while the main thread is blocked inside MPI.
    """

    def __init__(self, comm: Any, timeout: float, abort_from_thread: bool = True) -> None:
        self.comm = comm
        self.timeout = timeout
        self.abort_from_thread = abort_from_thread
        self._lock = threading.Lock()
        self._current: tuple[str, float] | None = None
        self.calls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="deepgrad-watchdog",
                                        daemon=True)
        self._thread.start()

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Run one collective named ``what`` under the watchdog."""
        with self._lock:
            self.calls += 1
            self._current = (f"{what} (collective call #{self.calls})", time.monotonic())
        try:
            yield
        finally:
            with self._lock:
                self._current = None

    def _watch(self) -> None:
        period = min(1.0, self.timeout / 10)
        while not self._stop.wait(period):
            with self._lock:
                current = self._current
            if current is None:
                continue
            what, since = current
            waited = time.monotonic() - since
            if waited > self.timeout:
                rank, size = self.comm.Get_rank(), self.comm.Get_size()
                sys.stderr.write(
                    f"deepgrad.distributed: rank {rank} of {size} waited {waited:.1f} s in "
                    f"{what}, longer than the timeout of {self.timeout:g} s; another rank has "
                    f"died, hangs or is cut off. Aborting the whole job (MPI_Abort); resume "
                    f"from the last checkpoint.\n")
                sys.stderr.flush()
                if self.abort_from_thread:
                    self.comm.Abort(1)
                # An MPI without MPI_THREAD_MULTIPLE may not be called from this thread while
                # the main one is inside MPI: end this rank instead; the launcher, seeing a
                # rank exit uncleanly, then ends the others.
                os._exit(1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class ProcessGroup:
    """One MPI communicator with its rank, size and watchdog."""

    comm: Any
    rank: int
    size: int
    backend: str
    watchdog: Watchdog

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        with self.watchdog.guard(what):
            yield


_world: ProcessGroup | None = None
_previous_excepthook: Any = None


def _abort_on_exception(kind: type[BaseException], value: BaseException,
                        tb: TracebackType | None) -> None:
    """A rank that dies of an exception takes the job with it instead of leaving the others
    blocked in their next collective (``python -m mpi4py`` does the same)."""
    assert _previous_excepthook is not None
    _previous_excepthook(kind, value, tb)
    group = _world
    if group is not None and group.size > 1 and not issubclass(kind, KeyboardInterrupt):
        sys.stderr.write(f"deepgrad.distributed: rank {group.rank} of {group.size} raised "
                         f"{kind.__name__}; aborting the whole job (MPI_Abort).\n")
        sys.stderr.flush()
        group.comm.Abort(1)


def _seconds(timeout: timedelta | float) -> float:
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return seconds


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout: timedelta | float = DEFAULT_TIMEOUT, world_size: int = -1,
                       rank: int = -1, **_: Any) -> None:
    """Join the MPI job this process was started in (torch's signature).

    ``backend`` must be ``"mpi"`` (None means it too). ``world_size`` and
    ``rank``, when given, are checked against what MPI says, since MPI and
    not the caller decides them. ``timeout`` (a ``timedelta`` or seconds)
    bounds every collective; see the module docstring.
    """
    global _world, _previous_excepthook
    if backend is None:
        backend = "mpi"
    if str(backend).lower() not in BACKENDS:
        raise ValueError(f"init_process_group: backend must be one of {BACKENDS}, got "
                         f"{backend!r}; deepgrad's collectives run on MPI (launch with mpirun)")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method {init_method!r} is not used by the "
                         "MPI backend (mpirun tells each rank where it stands); leave it None")
    if _world is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized; call destroy_process_group() first")
    seconds = _seconds(timeout)
    mpi = _mpi()
    comm = mpi.COMM_WORLD
    mine_rank, mine_size = comm.Get_rank(), comm.Get_size()
    if world_size not in (-1, mine_size):
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started "
                         f"{mine_size} ranks (mpirun -n {mine_size})")
    if rank not in (-1, mine_rank):
        raise ValueError(f"init_process_group: rank={rank} but MPI says this is rank "
                         f"{mine_rank}")
    # Errors in MPI calls raise Python exceptions (which then abort through the excepthook)
    # instead of MPI's default of killing the process without a traceback.
    comm.Set_errhandler(mpi.ERRORS_RETURN)
    threads_ok = mpi.Query_thread() == mpi.THREAD_MULTIPLE
    _world = ProcessGroup(comm, mine_rank, mine_size, "mpi",
                          Watchdog(comm, seconds, abort_from_thread=threads_ok))
    if _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the group (MPI itself is finalized when the process exits)."""
    global _world, _previous_excepthook
    if _world is None:
        raise RuntimeError("destroy_process_group: the default process group has not been "
                           "initialized; call init_process_group first")
    _world.watchdog.stop()
    _world = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _world is not None


def default_group(where: str) -> ProcessGroup:
    """The default group, or a clear error naming the call that needed it."""
    if _world is None:
        raise RuntimeError(f"{where}: the default process group has not been initialized; "
                           "call deepgrad.distributed.init_process_group(backend=\"mpi\") first")
    return _world


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank, 0 .. world size - 1."""
    return (group or default_group("get_rank")).rank


def get_world_size(group: ProcessGroup | None = None) -> int:
    """How many ranks the job has."""
    return (group or default_group("get_world_size")).size


def get_backend(group: ProcessGroup | None = None) -> str:
    return (group or default_group("get_backend")).backend
