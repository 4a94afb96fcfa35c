"""The one atomic writer: checkpoints, run records, dataset caches and downloads go through it.

``atomic_write(path)`` yields a file opened on a temporary name beside
``path``; on success it is flushed, fsynced and renamed over ``path`` (and
the folder fsynced, so the rename survives a power cut). On any error -
a full disk, a kill signal turned into an exception - the temporary file
is removed and ``path`` keeps its old content: a reader never sees half a
file. The new file gets the mode a plain ``open`` would give (the old
file's, else ``0o666 & ~umask``), not the ``0600`` of ``mkstemp``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _umask()


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *, durable: bool = True,
                 make_parents: bool = True, newline: str | None = None) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file in the same folder, renamed on success.

    ``durable=False`` skips the fsyncs (for caches, which are rebuilt if lost).
    ``make_parents=False`` refuses a missing folder instead of creating it.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} for {str(path)!r} "
                                "does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, mode, newline=newline) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:  # a failed write names no file: name the one we write
            raise type(error)(error.errno, error.strerror or str(error), str(path)) from error
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *,
                       durable: bool = True) -> None:
    """Atomically replace ``path`` with ``data``."""
    with atomic_write(path, "wb", durable=durable) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> None:
    """Atomically replace ``path`` with ``text`` (UTF-8, newlines as given)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
