"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun's header + raw bytes).

The header is two zero bytes, a type code (0x08 = unsigned byte), the
number of dimensions, then one big-endian int32 per dimension. Every
check names the file, the expected and the received value.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .errors import CorruptFileError

IMAGES_MAGIC = 2051  # 0x00000803: ubyte, 3 dims
LABELS_MAGIC = 2049  # 0x00000801: ubyte, 1 dim


def _read_bytes(path: Path) -> bytes:
    """The decompressed content (gzip when the name ends in .gz)."""
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(
            f"{path}: not a valid gzip file ({exc}); the download is truncated or corrupted. "
            "Delete it and download again."
        ) from exc


def read_idx(path: str | os.PathLike[str], magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes, checking the magic number and the size."""
    path = Path(path)
    content = _read_bytes(path)
    if len(content) < 4:
        raise CorruptFileError(f"{path}: {len(content)} bytes, too short for an IDX header")
    found = int.from_bytes(content[:4], "big")
    if found != magic:
        raise CorruptFileError(
            f"{path}: wrong magic number: expected {magic} (0x{magic:08x}), got {found} "
            f"(0x{found:08x}); is this the right file?"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(content) < header:
        raise CorruptFileError(f"{path}: header cut short ({len(content)} < {header} bytes)")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(content) != expected:
        raise CorruptFileError(
            f"{path}: size mismatch for shape {shape}: expected {expected} bytes, got "
            f"{len(content)}; the file is truncated or corrupted."
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)
