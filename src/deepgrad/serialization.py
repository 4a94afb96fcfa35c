"""Checkpoints: ``deepgrad.save(obj, path)`` and ``deepgrad.load(path)``, never pickle.

A checkpoint is one safetensors file. Arrays (and tensors) are its tensors, named
by their path in the object (``conv1.weight``, ``state.0.exp_avg``), so a model's
state dict is a plain safetensors file any tool can read. Everything else (the
nesting of dicts/lists/tuples, int keys, numbers, strings, bools, None) is JSON
in the file's ``__metadata__``, with a CRC-32 of every array and one of the
header itself (dtypes, shapes, offsets, format tag), so that a corrupted byte
is caught, not loaded. Writes are atomic: a temporary file in the same
folder, fsync, then rename, so a crash never leaves half a checkpoint.

Unpickling a file can run arbitrary code, so ``load`` refuses PyTorch ``.pt``
files and pickles and says how to convert them.

Typical use::

    deepgrad.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                   "epoch": epoch}, "ckpt.safetensors")
    ckpt = deepgrad.load("ckpt.safetensors")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])

For weights alone, ``model.save(path)`` and ``model.load(path)`` (``Module``
methods) do ``save(model.state_dict(), path)`` and
``model.load_state_dict(load(path))``.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np

from deepgrad.atomic import atomic_write_bytes
from deepgrad.tensor import Tensor

FORMAT = "deepgrad.checkpoint.v1"
_MAX_HEADER = 100 * 1024 * 1024

PathLike = str | os.PathLike


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read (corrupted, truncated or not a checkpoint)."""


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError as error:  # pragma: no cover - the lab extra installs it
        raise ImportError(
            "deepgrad.save/load need the 'safetensors' package: "
            "pip install 'deepgrad[lab]' (or pip install safetensors)") from error
    return st


def _crc32(array: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)


# ---- encoding ----------------------------------------------------------------------
class _Encoder:
    """Turns a nested object into (JSON tree, {name: contiguous array})."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: str) -> str:
        name = path or "_"
        if name in self.arrays:
            i = 1
            while f"{name}~{i}" in self.arrays:
                i += 1
            name = f"{name}~{i}"
        return name

    def _array(self, array: np.ndarray, path: str) -> dict[str, Any]:
        array = np.asarray(array)
        if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
            raise TypeError(f"save: cannot store the array at {path or '<root>'!r} of dtype "
                            f"{array.dtype}; checkpoints hold bool, int, uint and float arrays")
        # The safetensors NumPy writer copies the raw buffer: a transposed (non-contiguous)
        # or big-endian array would be written scrambled. Normalise both.
        # (np.ascontiguousarray would also turn a 0-d array into 1-d: np.asarray keeps it.)
        array = np.asarray(array, dtype=array.dtype.newbyteorder("="), order="C")
        name = self._name(path)
        self.arrays[name] = array
        return {"array": name, "crc32": _crc32(array)}

    def encode(self, obj: Any, path: str = "") -> Any:
        if isinstance(obj, Tensor):
            node = self._array(obj._array if isinstance(obj._array, np.ndarray)
                               else np.asarray(obj._array), path)
            node["tensor"] = True
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, np.ndarray):
            return self._array(obj, path)
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"save: cannot store NumPy scalar of dtype {obj.dtype} at "
                                f"{path or '<root>'!r}")
            return {"scalar": obj.item(), "dtype": obj.dtype.str}
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise TypeError(f"save: dict key {key!r} at {path or '<root>'!r} has type "
                                    f"{type(key).__name__}; keys must be str, int, float, "
                                    f"bool or None")
                sub = f"{path}.{key}" if path else str(key)
                items.append([key if isinstance(key, str) else {"key": key},
                              self.encode(value, sub)])
            return {"dict": items}
        if isinstance(obj, (list, tuple)):
            values = [self.encode(v, f"{path}.{i}" if path else str(i))
                      for i, v in enumerate(obj)]
            return {"tuple" if isinstance(obj, tuple) else "list": values}
        raise TypeError(
            f"save: cannot store an object of type {type(obj).__name__} at "
            f"{path or '<root>'!r}. Checkpoints hold arrays, tensors, numbers, strings, "
            f"bools, None, and dicts/lists/tuples of them (deepgrad never pickles): save "
            f"model.state_dict() and optimizer.state_dict(), not the objects.")


def _decode(node: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict):
        if "array" in node:
            name = node["array"]
            if name not in arrays:
                raise CheckpointError(f"{where}: the metadata names array {name!r}, which "
                                      f"is not in the file")
            array = arrays[name]
            if _crc32(array) != node["crc32"]:
                raise CheckpointError(f"{where}: array {name!r} fails its CRC-32 check: the "
                                      f"file is corrupted")
            if node.get("tensor"):
                return Tensor(array, requires_grad=bool(node.get("requires_grad")), _copy=False)
            return array
        if "dict" in node:
            out: dict[Any, Any] = OrderedDict()
            for key, value in node["dict"]:
                out[key["key"] if isinstance(key, dict) else key] = _decode(value, arrays, where)
            return out
        if "list" in node:
            return [_decode(v, arrays, where) for v in node["list"]]
        if "tuple" in node:
            return tuple(_decode(v, arrays, where) for v in node["tuple"])
        if "scalar" in node:
            return np.dtype(node["dtype"]).type(node["scalar"])
        if "float" in node:
            return float(node["float"])
    raise CheckpointError(f"{where}: unknown entry {str(node)[:80]!r} in the metadata")


# ---- writing ---------------------------------------------------------------------------
def save(obj: Any, f: PathLike | Any) -> None:
    """Write ``obj`` (a state dict, an optimizer state dict, or nested dicts/lists of
    arrays, tensors, numbers and strings) to ``f``, a path or a writable binary file.

    Writing to a path is atomic: the old file, if any, stays whole until the new
    one is complete on disk.
    """
    st = _safetensors_numpy()
    encoder = _Encoder()
    tree = encoder.encode(obj)
    structure = json.dumps(tree, separators=(",", ":"))
    metadata = {"format": FORMAT, "structure": structure,
                "structure_crc32": str(zlib.crc32(structure.encode()))}
    payload = _seal(st.save(encoder.arrays, metadata=metadata))
    if hasattr(f, "write"):
        f.write(payload)
        return
    write_atomic(f, payload, "save")


def write_atomic(f: PathLike, payload: bytes, op: str = "write") -> None:
    """Write ``payload`` to the path ``f`` through the package's one atomic writer
    (``deepgrad.atomic``); ``op`` names the caller in the error for a missing folder."""
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{op}: the folder {folder!r} for {path!r} does not exist")
    atomic_write_bytes(path, payload)


def _header_crc(header: dict[str, Any]) -> str:
    """CRC-32 of everything in a safetensors header but the seal itself: every tensor's
    dtype, shape and offsets, and the metadata (format tag, structure)."""
    meta = {k: v for k, v in (header.get("__metadata__") or {}).items() if k != "header_crc32"}
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    text = json.dumps({"metadata": meta, "tensors": entries}, sort_keys=True,
                      separators=(",", ":"))
    return str(zlib.crc32(text.encode()))


def _seal(payload: bytes) -> bytes:
    """Add ``header_crc32`` to a safetensors payload's metadata: without it one changed byte
    of a dtype (F32 -> I32) loaded silently wrong values, and an edited format tag turned
    every CRC check off. The data section is kept byte for byte; the header is rewritten
    (space-padded to 8 bytes, as safetensors writes it) and its offsets, relative to the
    data section, stay valid."""
    (size,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8:8 + size])
    header.setdefault("__metadata__", {})["header_crc32"] = _header_crc(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload[8 + size:]


# ---- reading -------------------------------------------------------------------------------
_CONVERT = (
    "deepgrad never unpickles files, because unpickling can run arbitrary code. Convert it "
    "once, in PyTorch, with a file you trust: `import torch; from safetensors.torch import "
    "save_file; save_file(torch.load(PATH, weights_only=True), 'model.safetensors')` (for a "
    "state dict), then deepgrad.load('model.safetensors')."
)


def _refuse_pickle(data: bytes, name: str) -> None:
    if data[:4] == b"PK\x03\x04":
        raise CheckpointError(f"load: {name} is a zip archive, the format of PyTorch's "
                              f"torch.save (.pt/.pth), which holds pickled objects. {_CONVERT}")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise CheckpointError(f"load: {name} is a Python pickle (legacy torch.save or "
                              f"pickle.dump). {_CONVERT}")


def _check_header(data: bytes, name: str) -> None:
    """Validate the safetensors framing ourselves, for an error that names the file."""
    if len(data) < 8:
        raise CheckpointError(f"load: {name} is truncated or not a checkpoint: only "
                              f"{len(data)} bytes")
    (size,) = struct.unpack("<Q", data[:8])
    if size > _MAX_HEADER or 8 + size > len(data):
        raise CheckpointError(
            f"load: {name} is truncated or not a deepgrad/safetensors checkpoint: its header "
            f"claims {size} bytes but the file has {len(data)}. Re-save it, or restore it "
            f"from a backup.")
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"load: {name} is corrupted: its header is not valid JSON "
                              f"({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {name} is corrupted: its header is not a JSON object")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (KeyError, TypeError, ValueError, IndexError):
            raise CheckpointError(f"load: {name} is corrupted: bad header entry for "
                                  f"{key!r}") from None
    if 8 + size + end != len(data):
        raise CheckpointError(
            f"load: {name} is truncated or corrupted: the header describes "
            f"{8 + size + end} bytes, the file has {len(data)}. Re-save it, or restore it "
            f"from a backup.")


def load(f: PathLike | Any, map_location: Any = None, weights_only: Any = None,
         **kwargs: Any) -> Any:
    """Read a checkpoint written by ``save`` (from a path or a readable binary file) and
    return the saved object: arrays come back as NumPy arrays (tensors as Tensors), dict
    key types and order as saved. A plain safetensors file (say, from
    ``safetensors.torch.save_file``) gives a dict of arrays.

    ``map_location`` and ``weights_only`` are accepted for torch-style code and ignored:
    nothing is ever unpickled, so loading is always weights-only.
    """
    if hasattr(f, "read"):
        data = f.read()
        name = repr(getattr(f, "name", "<file object>"))
    else:
        path = os.fspath(f)
        name = repr(path)
        if os.path.isdir(path):
            raise IsADirectoryError(f"load: {name} is a folder, not a checkpoint file")
        with open(path, "rb") as handle:
            data = handle.read()
    if isinstance(data, str):
        raise TypeError(f"load: {name} was opened in text mode; open it with 'rb'")
    _refuse_pickle(data, name)
    _check_header(data, name)
    st = _safetensors_numpy()
    try:
        arrays = st.load(data)
    except Exception as error:  # SafetensorError and friends, re-raised with the file
        raise CheckpointError(f"load: {name} is not a readable safetensors checkpoint "
                              f"({type(error).__name__}: {error}). Re-save it, or restore it "
                              f"from a backup.") from None
    header_size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_size])
    metadata = header.get("__metadata__") or {}
    sealed = "header_crc32" in metadata
    if metadata.get("format") != FORMAT and (sealed or "structure_crc32" in metadata):
        raise CheckpointError(f"load: {name} is corrupted: it has deepgrad's checksums but the "
                              f"format tag {metadata.get('format')!r}, not {FORMAT!r}. Re-save "
                              f"it, or restore it from a backup.")
    if metadata.get("format") != FORMAT:
        # A foreign safetensors file: its tensors, in the order of their offsets.
        order = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k]["data_offsets"][0])
        return OrderedDict((k, arrays[k]) for k in order)
    structure = metadata.get("structure", "")
    if str(zlib.crc32(structure.encode())) != metadata.get("structure_crc32"):
        raise CheckpointError(f"load: {name} is corrupted: its structure metadata fails its "
                              f"CRC-32 check. Re-save it, or restore it from a backup.")
    if sealed and metadata["header_crc32"] != _header_crc(header):
        raise CheckpointError(f"load: {name} is corrupted: its header (dtypes, shapes, offsets "
                              f"or format tag) fails its CRC-32 check. Re-save it, or restore "
                              f"it from a backup.")
    try:
        tree = json.loads(structure)
    except (KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"load: {name} is corrupted: its structure metadata cannot be "
                              f"read ({error})") from None
    return _decode(tree, arrays, f"load: {name}")


def _bytes_of(obj: Any) -> bytes:
    """The checkpoint bytes of ``obj`` (for tests and for in-memory copies)."""
    buffer = io.BytesIO()
    save(obj, buffer)
    return buffer.getvalue()
