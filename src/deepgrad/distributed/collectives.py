"""Collectives on tensors and NumPy arrays: torch's ``all_reduce``, ``broadcast``, ``barrier``.

They work in place on the tensor's memory (as torch's do) through mpi4py's
buffer calls (``Allreduce``/``Bcast`` on the array itself: no pickling, no
copy). Every call runs under the group's watchdog, so a collective whose
peers never arrive ends the job with a message instead of hanging.
``async_op=True`` starts a non-blocking collective and returns a ``Work``
whose ``wait()`` finishes it (what ``DistributedDataParallel`` overlaps
with the backward pass).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import numpy as np

from deepgrad.tensor import Tensor

from .process_group import ProcessGroup, default_group


class ReduceOp(enum.Enum):
    """torch's ``dist.ReduceOp``: how ``all_reduce`` combines the ranks' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi_op(op: ReduceOp) -> Any:
    from mpi4py import MPI

    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def _array(tensor: Tensor | np.ndarray, where: str) -> np.ndarray:
    """The memory a collective writes into: the tensor's own array (it must be contiguous)."""
    array = tensor._array if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{where}: expected a deepgrad Tensor or a NumPy array, got "
                        f"{type(tensor).__name__}")
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(f"{where}: the tensor must be contiguous and writeable (it is "
                         f"reduced in place); call .contiguous() or .clone() first")
    return array


def _bump(tensor: Tensor | np.ndarray) -> None:
    """An in-place write: tell autograd's version check, as any in-place op does."""
    if isinstance(tensor, Tensor):
        tensor._version_counter.value += 1


class Work:
    """A collective in flight (torch's ``Work``): ``wait()`` finishes it."""

    def __init__(self, group: ProcessGroup, request: Any, what: str, on_done: Any = None
                 ) -> None:
        self._group, self._request, self._what = group, request, what
        self._on_done = on_done
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._finish()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            with self._group.guard(self._what):
                self._request.Wait()
            self._finish()
        return True

    def _finish(self) -> None:
        self._done = True
        if self._on_done is not None:
            self._on_done()


def all_reduce(tensor: Tensor | np.ndarray, op: ReduceOp = ReduceOp.SUM,
               group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across all ranks, in place: afterwards every rank holds the result."""
    g = group or default_group("all_reduce")
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a deepgrad.distributed.ReduceOp, got {op!r}")
    array = _array(tensor, "all_reduce")
    if op is ReduceOp.AVG and array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating point tensor, got "
                        f"{array.dtype}; use SUM and divide")

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(array, g.size, out=array)
        _bump(tensor)

    from mpi4py import MPI

    if async_op:
        request = g.comm.Iallreduce(MPI.IN_PLACE, array, op=_mpi_op(op))
        return Work(g, request, f"all_reduce of {array.size} x {array.dtype}", finish)
    with g.guard(f"all_reduce of {array.size} x {array.dtype}"):
        g.comm.Allreduce(MPI.IN_PLACE, array, op=_mpi_op(op))
    finish()
    return None


def broadcast(tensor: Tensor | np.ndarray, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into every other rank's, in place."""
    g = group or default_group("broadcast")
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{g.size - 1}, got {src}")
    array = _array(tensor, "broadcast")
    what = f"broadcast of {array.size} x {array.dtype} from rank {src}"
    if async_op:
        return Work(g, g.comm.Ibcast(array, root=src), what, lambda: _bump(tensor))
    with g.guard(what):
        g.comm.Bcast(array, root=src)
    _bump(tensor)
    return None


def barrier(group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this call."""
    g = group or default_group("barrier")
    if async_op:
        return Work(g, g.comm.Ibarrier(), "barrier")
    with g.guard("barrier"):
        g.comm.Barrier()
    return None


def all_gather_array(array: np.ndarray, group: ProcessGroup | None = None) -> np.ndarray:
    """Every rank's ``array`` stacked along a new first axis, ``(world size, *array.shape)``."""
    g = group or default_group("all_gather")
    array = np.ascontiguousarray(array)
    out = np.empty((g.size,) + array.shape, array.dtype)
    with g.guard(f"all_gather of {array.size} x {array.dtype}"):
        g.comm.Allgather(array, out)
    return out


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> None:
    """torch's ``all_gather``: ``tensor_list[r]`` gets rank ``r``'s ``tensor`` (in place)."""
    g = group or default_group("all_gather")
    if async_op:
        raise ValueError("all_gather: async_op=True is not supported; deepgrad's all_gather "
                         "is blocking (all_reduce and broadcast have async_op)")
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list must have one tensor per rank "
                         f"({g.size}), got {len(tensor_list)}")
    gathered = all_gather_array(_array(tensor, "all_gather"), g)
    for r, out in enumerate(tensor_list):
        target = _array(out, "all_gather")
        if target.shape != gathered[r].shape:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {tuple(target.shape)}, "
                             f"expected {tuple(gathered[r].shape)} (the input's)")
        target[...] = gathered[r]
        _bump(out)


def broadcast_bytes(data: bytes | None, src: int = 0, group: ProcessGroup | None = None
                    ) -> bytes:
    """Rank ``src``'s bytes on every rank (the length first, then the bytes; no pickle)."""
    g = group or default_group("broadcast_bytes")
    length = np.array([len(data) if g.rank == src and data is not None else 0], np.int64)
    broadcast(length, src, g)
    buffer = np.zeros(int(length[0]), np.uint8)
    if g.rank == src and data is not None:
        buffer[:] = np.frombuffer(data, np.uint8)
    broadcast(buffer, src, g)
    return buffer.tobytes()


def all_gather_bytes(data: bytes, group: ProcessGroup | None = None) -> list[bytes]:
    """Every rank's bytes, in rank order, on every rank (for small state such as a random
    generator's; no pickle: the caller decides the encoding, e.g. JSON)."""
    g = group or default_group("all_gather_bytes")
    lengths = all_gather_array(np.array([len(data)], np.int64), g).reshape(-1)
    out = np.empty(int(lengths.sum()), np.uint8)
    with g.guard(f"all_gather of {int(lengths.sum())} bytes"):
        g.comm.Allgatherv(np.frombuffer(data, np.uint8), [out, lengths.tolist()])
    ends = np.cumsum(lengths).tolist()
    return [out[end - n:end].tobytes() for end, n in zip(ends, lengths.tolist(), strict=True)]


def check_same(what: str, description: str, group: ProcessGroup | None = None) -> None:
    """Raise on every rank when ``description`` differs between ranks, naming the first
    rank that differs from rank 0 and both descriptions."""
    g = group or default_group("check_same")
    digest = np.frombuffer(hashlib.sha256(description.encode()).digest(), np.uint8)
    digests = np.zeros((g.size, digest.size), np.uint8)
    with g.guard(f"check of {what}"):
        g.comm.Allgather(digest, digests)
    different = [r for r in range(g.size) if not np.array_equal(digests[r], digests[0])]
    if different:
        theirs = broadcast_bytes(description.encode() if g.rank == different[0] else None,
                                 different[0], g).decode()
        mine0 = broadcast_bytes(description.encode() if g.rank == 0 else None, 0, g).decode()
        raise RuntimeError(f"{what} differs between ranks: rank 0 has {mine0}, rank "
                           f"{different[0]} has {theirs}; every rank must build the same model")
