"""Decode a ``[<split>/]<class>/<image>`` tree, from a folder or a tarball, into arrays.

A tar.gz must be read from start to end anyway, so one pass decodes every
split it holds, and each split is cached as .npy (next to the data when
that folder is writable, else in the cache dir), keyed by a folder's file
list (paths, sizes, mtimes) or an archive's size and modification time. The
second load is an ``np.load``.

A gzipped archive is decompressed in one go and its ustar headers parsed
directly (``tarfile`` is 10x slower per member); decoding then runs in
worker processes forked from a single-threaded parent (in-process
otherwise), each taking a range of the images.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tarfile
import threading
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from deepgrad.atomic import atomic_write

from ..errors import CorruptFileError
from ..paths import cache_dir, is_writable

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
FORMATS = ["JPEG", "PNG"]
CHUNK = 2000  # images per decode task
IN_MEMORY_LIMIT = 1 << 30  # archives below 1 GiB are decompressed in one go
HARMLESS_PAX_KEYS = {b"comment", b"mtime", b"atime", b"ctime", b"charset", b"hdrcharset"}
CACHE_VERSION = 1


@dataclass
class Split:
    """One decoded split: images (N,H,W[,C]) uint8, labels (N,) int64, shared class list."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    files: list[str]


def _fast_tar(data: bytes) -> list[tuple[str, bytes]] | None:
    """Members of a plain ustar archive held in memory, or None if it uses anything else.

    ``tarfile`` spends ~20 us per member on header objects; this parses the
    512-byte headers directly (names, sizes) and hands anything
    unusual (pax or GNU long-name headers, links) back to ``tarfile``.
    """
    out: list[tuple[str, bytes]] = []
    pos, end = 0, len(data)
    while pos + 512 <= end:
        header = data[pos : pos + 512]
        if header[0] == 0:
            return out  # end-of-archive block
        if header[257:262] != b"ustar":
            return None  # not a POSIX header (the gzip CRC already vouches for the bytes)
        try:
            size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        except ValueError:
            return None
        kind = header[156:157]
        if kind == b"g":  # pax global header: fine if it only carries metadata
            keys = {
                line.split(b"=", 1)[0].split(b" ", 1)[-1]
                for line in data[pos + 512 : pos + 512 + size].split(b"\n")
                if line
            }
            if not keys <= HARMLESS_PAX_KEYS:
                return None
        elif kind not in (b"0", b"\0", b"5"):
            return None
        name = header[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
        prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
        name = f"{prefix}/{name}" if prefix else name
        if kind in (b"0", b"\0") and Path(name).suffix.lower() in IMAGE_EXTENSIONS:
            if pos + 512 + size > end:
                return None
            out.append((name.lstrip("./"), data[pos + 512 : pos + 512 + size]))
        pos += 512 + (size + 511) // 512 * 512
    return None  # no end-of-archive marker: let tarfile report the truncation


def _read_files(source: Path) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every image file, in a stable order."""
    if source.is_dir():
        paths = sorted(
            p for p in source.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        )
        return [(p.relative_to(source).as_posix(), p.read_bytes()) for p in paths]
    try:
        if source.stat().st_size < IN_MEMORY_LIMIT:
            raw = source.read_bytes()
            data = zlib.decompress(raw, 47) if raw[:2] == b"\x1f\x8b" else raw
            members = _fast_tar(data)
            if members is not None:
                return members
        with tarfile.open(source) as tar:
            out = []
            for member in tar:
                if member.isfile() and Path(member.name).suffix.lower() in IMAGE_EXTENSIONS:
                    fh = tar.extractfile(member)
                    assert fh is not None
                    out.append((member.name.lstrip("./"), fh.read()))
            return out
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise CorruptFileError(f"{source}: cannot read the archive ({exc})") from exc


def _decode_chunk(names: list[str], blobs: list[bytes], mode: str) -> np.ndarray:
    """Decode images of one size into one array."""
    from PIL import Image

    first_shape: tuple[int, ...] | None = None
    out: np.ndarray | None = None
    for i, (name, blob) in enumerate(zip(names, blobs, strict=True)):
        try:
            with Image.open(io.BytesIO(blob), formats=FORMATS) as opened:
                im = opened.convert(mode) if opened.mode != mode else opened
                shape = (im.height, im.width) + ((len(mode),) if mode != "L" else ())
                pixels = np.frombuffer(im.tobytes(), dtype=np.uint8).reshape(shape)
        except Exception as exc:  # Pillow raises many types for a bad file
            raise CorruptFileError(f"{name}: cannot decode image ({exc})") from exc
        if out is None:
            first_shape = shape
            out = np.empty((len(names), *shape), dtype=np.uint8)
        elif shape != first_shape:
            raise CorruptFileError(
                f"{name}: image is {shape}, but {names[0]} is {first_shape}; all images of a "
                "folder dataset must have one size"
            )
        out[i] = pixels
    assert out is not None
    return out


_SHARED: tuple[list[str], list[bytes], str] | None = None  # inherited by forked workers


def _decode_range(start: int, stop: int) -> np.ndarray:
    assert _SHARED is not None
    names, blobs, mode = _SHARED
    return _decode_chunk(names[start:stop], blobs[start:stop], mode)


def _can_fork() -> bool:
    """Fork only from a single-threaded parent on Linux (forking with threads can deadlock)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _decode_all(source: Path, mode: str, workers: int | None) -> tuple[list[str], np.ndarray]:
    """All image paths in ``source`` and their decoded pixels, in one array."""
    global _SHARED
    try:
        import PIL  # noqa: F401
    except ImportError as exc:  # pragma: no cover - Pillow is in the lab extra
        raise ImportError("decoding JPEG/PNG datasets needs Pillow: pip install Pillow") from exc
    files = _read_files(source)
    if not files:
        raise CorruptFileError(
            f"{source}: no images ({', '.join(IMAGE_EXTENSIONS)}) found; expected "
            "[<split>/]<class>/<image> files"
        )
    names = [name for name, _ in files]
    labelled = [f"{source}:{name}" for name in names]
    blobs = [blob for _, blob in files]
    del files
    n_workers = min(workers or (os.cpu_count() or 1), 8)
    ranges = [(a, min(a + CHUNK, len(names))) for a in range(0, len(names), CHUNK)]
    if n_workers > 1 and len(ranges) > 1 and _can_fork():
        _SHARED = (labelled, blobs, mode)
        try:
            with ProcessPoolExecutor(n_workers, mp_context=get_context("fork")) as pool:
                arrays = list(pool.map(_decode_range, *zip(*ranges, strict=True)))
        finally:
            _SHARED = None
    else:
        arrays = [_decode_chunk(labelled[a:b], blobs[a:b], mode) for a, b in ranges]
    shapes = {a.shape[1:] for a in arrays}
    if len(shapes) > 1:
        raise CorruptFileError(
            f"{source}: images have different sizes {sorted(shapes)}; all images of a folder "
            "dataset must have one size"
        )
    return names, np.concatenate(arrays) if len(arrays) > 1 else arrays[0]


def _group(source: Path, names: list[str]) -> tuple[list[str | None], list[str]]:
    """The split (folder above the class, or None) and class of every image."""
    splits: list[str | None] = []
    classes: list[str] = []
    for name in names:
        parts = name.split("/")
        if len(parts) < 2:
            raise CorruptFileError(
                f"{source}: {name!r} is not inside a class folder; expected "
                "<split>/<class>/<image> or <class>/<image>"
            )
        splits.append(parts[-3] if len(parts) >= 3 else None)
        classes.append(parts[-2])
    return splits, classes


def _cache_folder(source: Path, mode: str) -> list[Path]:
    """Candidate cache folders, best first: next to the data, then the cache dir."""
    if source.is_dir():
        # A folder is keyed by its file list: every path (so its class), size and mtime. A
        # total size and newest mtime missed a file moved to another class or a renamed
        # class folder (a rename keeps sizes and mtimes), and served the stale labels.
        listing = sorted(
            (p.relative_to(source).as_posix(), st.st_size, st.st_mtime_ns)
            for p in source.rglob("*") if p.is_file() and (st := p.stat()))
        digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:20]
        key = f"{source.name}-{digest}-{mode}-v{CACHE_VERSION}"
    else:
        st = source.stat()
        key = f"{source.name}-{st.st_size}-{st.st_mtime_ns}-{mode}-v{CACHE_VERSION}"
    return [source.parent / ".deepgrad-cache" / key, cache_dir() / "images" / key]


def _split_key(split: str | None) -> str:
    return "_" if split is None else split


def _load_cached(folder: Path) -> dict[str | None, Split] | None:
    index_file = folder / "index.json"
    if not index_file.is_file():
        return None
    try:
        index = json.loads(index_file.read_text())
        out: dict[str | None, Split] = {}
        for key, meta in index["splits"].items():
            split = None if key == "_" else key
            images = np.load(folder / f"{key}.images.npy", allow_pickle=False)
            labels = np.load(folder / f"{key}.labels.npy", allow_pickle=False)
            if len(images) != meta["count"] or len(labels) != meta["count"]:
                return None
            out[split] = Split(images, labels, index["classes"], meta["files"])
        return out
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is rebuilt, never trusted


def _save_cache(folder: Path, splits: dict[str | None, Split], classes: list[str]) -> None:
    for split, s in splits.items():
        for what, array in (("images", s.images), ("labels", s.labels)):
            with atomic_write(folder / f"{_split_key(split)}.{what}.npy", durable=False) as fh:
                np.save(fh, array, allow_pickle=False)  # type: ignore[arg-type]
    index = {
        "classes": classes,
        "splits": {
            _split_key(k): {"count": len(s.labels), "files": s.files} for k, s in splits.items()
        },
    }
    with atomic_write(folder / "index.json", "w") as fh:  # written last: marks the cache complete
        json.dump(index, fh)  # type: ignore[arg-type]


def read_image_tree(
    source: str | os.PathLike[str],
    mode: str = "RGB",
    cache: bool = True,
    workers: int | None = None,
) -> dict[str | None, Split]:
    """Every split in ``source`` (folder or tarball) as arrays; from the cache when possible."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such folder or archive")
    if mode not in ("RGB", "L"):
        raise ValueError(f"read_image_tree: mode must be 'RGB' or 'L', got {mode!r}")
    folders = _cache_folder(source, mode) if cache else []
    for folder in folders:
        cached = _load_cached(folder)
        if cached is not None:
            return cached
    names, images = _decode_all(source, mode, workers)
    split_of, class_of = _group(source, names)
    classes = sorted(set(class_of))
    class_to_idx = {c: i for i, c in enumerate(classes)}
    labels = np.array([class_to_idx[c] for c in class_of], dtype=np.int64)
    keys = np.array([_split_key(s) for s in split_of])
    result: dict[str | None, Split] = {}
    for split in dict.fromkeys(split_of):  # first-seen order
        rows = np.flatnonzero(keys == _split_key(split))
        rows = rows[np.argsort(np.array(names)[rows], kind="stable")]  # class, then file name
        result[split] = Split(
            np.ascontiguousarray(images[rows]), labels[rows], classes, [names[i] for i in rows]
        )
    for folder in folders:
        if is_writable(folder):
            try:
                _save_cache(folder, result, classes)
                break
            except OSError:
                continue
    return result
