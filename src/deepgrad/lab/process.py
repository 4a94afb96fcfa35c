"""Process guards shared by runs and sweeps: one process per folder, SIGTERM as Ctrl-C.

``folder_lock`` takes an OS advisory lock (``flock``) on the folder itself:
the kernel releases it when the process dies, even by SIGKILL, so a killed
run never leaves a stale lock behind. ``sigterm_as_interrupt`` makes
``kill PID`` stop a run as cleanly as Ctrl-C: the same KeyboardInterrupt, the
same "stopped" summary, the same resumable checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["FolderBusy", "folder_lock", "sigterm_as_interrupt"]


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (the directory itself, so no lock file is left
    behind) inside the block; raise FolderBusy naming ``what`` when another process holds
    it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; trust the user
        yield
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise FolderBusy(f"{what}: another process is using {path}; wait for it to finish "
                         "or stop it first") from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt (main thread only; elsewhere a
    signal handler cannot be installed, and the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
