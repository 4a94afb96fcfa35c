"""Checked downloads: mirrors tried in order, checksum verified, written atomically.

A file only ever appears under its final name once every byte has arrived
and its SHA-256 (or MD5, where only that is published) matches; anything
else is deleted and the next mirror is tried.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.client import HTTPException
from pathlib import Path
from typing import Any

from deepgrad.atomic import atomic_write

from .errors import ChecksumError, CorruptFileError, DownloadError

CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in chunks (large archives do not fit memory twice)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _expected(sha256: str | None, md5: str | None) -> tuple[str, str] | None:
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    return None


def check_integrity(path: Path, sha256: str | None = None, md5: str | None = None) -> bool:
    """True when ``path`` exists and has the given checksum (or no checksum is given)."""
    if not path.is_file():
        return False
    expected = _expected(sha256, md5)
    return expected is None or file_digest(path, expected[0]) == expected[1]


def _progress_bar(total: int | None, desc: str, enabled: bool) -> Any:
    """A tqdm bar when tqdm is installed and wanted; otherwise a silent stand-in."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr)
        except ImportError:  # pragma: no cover - tqdm is in the lab extra
            pass

    class _Silent:
        def update(self, n: int) -> None: ...
        def close(self) -> None: ...

    return _Silent()


def _fetch(
    url: str, dest: Path, expected: tuple[str, str] | None, timeout: float, progress: bool
) -> None:
    """Stream ``url`` into ``dest``; rename into place only if size and checksum are right."""
    algorithm = expected[0] if expected else "sha256"
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "deepgrad"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.isdigit() else None
        bar = _progress_bar(total, dest.name, progress)
        received = 0
        try:
            with atomic_write(dest) as fh:
                while chunk := response.read(CHUNK):
                    fh.write(chunk)  # type: ignore[attr-defined]
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                if total is not None and received != total:
                    raise DownloadError(f"connection closed after {received} of {total} bytes")
                got = digest.hexdigest()
                if expected is not None and got != expected[1]:
                    raise ChecksumError(
                        f"checksum mismatch: expected {algorithm} {expected[1]}, got {got} "
                        f"({received} bytes; nothing kept)"
                    )
        finally:
            bar.close()


def download_url(
    urls: str | Sequence[str],
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    md5: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``dest`` from the first mirror that delivers the right bytes.

    Skips the download when ``dest`` already has the right checksum. On a
    checksum mismatch the bad file is removed before the next mirror is
    tried, so nothing that looks valid is left behind. Raises
    ``DownloadError`` (``ChecksumError`` when every mirror gave wrong
    bytes) listing each mirror and what went wrong.
    """
    dest = Path(dest)
    mirrors = [urls] if isinstance(urls, str) else list(urls)
    if not mirrors:
        raise ValueError(f"download_url: no URL given for {dest}")
    expected = _expected(sha256, md5)
    algorithm = expected[0] if expected else "sha256"
    if dest.is_file() and (expected is None or file_digest(dest, algorithm) == expected[1]):
        return dest
    if dest.is_file():
        dest.unlink()  # wrong bytes under the final name must not survive a failed retry
    failures: list[str] = []
    checksum_only = True
    for url in mirrors:
        try:
            _fetch(url, dest, expected, timeout, progress)
            return dest
        except ChecksumError as exc:
            failures.append(f"  - {url}: {exc}")
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
            checksum_only = False
            failures.append(f"  - {url}: {type(exc).__name__}: {exc}")
    error = ChecksumError if checksum_only else DownloadError
    raise error(f"could not download {dest.name} into {dest.parent}:\n" + "\n".join(failures))


def extract_tar(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Extract a tar archive, refusing members that would land outside ``dest``."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            root = dest.resolve()
            for member in tar.getmembers():
                target = (root / member.name).resolve()
                if not target.is_relative_to(root) or member.issym() or member.islnk():
                    raise CorruptFileError(
                        f"{archive}: refusing to extract {member.name!r} (link or path outside "
                        f"{dest})"
                    )
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # pragma: no cover - Python without PEP 706
                tar.extractall(dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, CorruptFileError):
            raise
        raise CorruptFileError(f"{archive}: cannot extract ({exc})") from exc
    return dest
