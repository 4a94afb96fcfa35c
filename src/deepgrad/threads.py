"""Intra-op threads: torch's ``set_num_threads`` / ``get_num_threads``, for the BLAS and for
the large elementwise passes that NumPy runs on one core.

A GEMM already uses every BLAS thread; a ReLU, a pooling pass or an im2col copy does not.
NumPy's loops release the GIL, so such a pass split along its outermost memory axis runs
on several cores from a small thread pool (torch splits its elementwise kernels the same
way, with OpenMP). Below ``MIN_ELEMENTS`` a pass stays on the calling thread: handing work
to a pool thread costs tens of microseconds.

The default is ``OMP_NUM_THREADS`` (or ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``) when
set, else the CPUs this process may run on, as torch and OpenBLAS do.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MIN_ELEMENTS = 1 << 18
"""Passes over fewer elements (1 MiB of float32) run on the calling thread."""


def _default_threads() -> int:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool_in_child() -> None:
    """A forked child (a DataLoader worker, an MPI rank) has the pool object but not its
    threads: it would wait forever for them; it starts its own pool when it needs one."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def get_num_threads() -> int:
    """The number of threads deepgrad's ops use (torch.get_num_threads)."""
    return _threads


def set_num_threads(threads: int) -> None:
    """Use ``threads`` threads for elementwise passes and, through threadpoolctl when it
    is installed (the lab extra), for the BLAS behind NumPy's matrix products."""
    global _threads, _pool
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {threads!r}")
    with _pool_lock:
        _threads = int(threads)
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl, the BLAS keeps its own setting
        return
    threadpool_limits(limits=int(threads), user_api="blas")


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads - 1,
                                       thread_name_prefix="deepgrad-intraop")
        return _pool


def parts(extent: int, size: int) -> list[slice]:
    """Slices that split an axis of ``extent`` into one part per thread, or the whole axis
    when the pass (``size`` elements) is too small to share or there is one thread."""
    count = min(_threads, extent)
    if count < 2 or size < MIN_ELEMENTS:
        return [slice(None)]
    bounds = np.linspace(0, extent, count + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def run(work: Callable[[slice], Any], extent: int, size: int) -> None:
    """``work(part)`` for each part of an axis of ``extent``: the first on this thread, the
    others on the pool; errors are raised here, after every part has finished."""
    slices = parts(extent, size)
    if len(slices) == 1:
        work(slices[0])
        return
    futures = [_executor().submit(work, s) for s in slices[1:]]
    try:
        work(slices[0])
    finally:
        for future in futures:
            future.result()


def outer_axis(a: Any) -> int:
    """The axis of ``a`` with the largest stride: its parts are whole blocks of memory."""
    strides = [abs(s) if n > 1 else 0 for s, n in zip(a.strides, a.shape, strict=True)]
    return int(np.argmax(strides)) if strides else 0


def elementwise(kernel: Callable[..., Any], out: Any, *inputs: Any,
                axis: int | None = None) -> Any:
    """``kernel(out_part, *input_parts)`` over parts of ``out`` along ``axis`` (default: its
    outermost memory axis); ``inputs`` have ``out``'s shape. Returns ``out``."""
    if out.ndim == 0:
        kernel(out, *inputs)
        return out
    axis = outer_axis(out) if axis is None else axis
    lead = (slice(None),) * axis

    def work(part: slice) -> None:
        index = lead + (part,)
        kernel(out[index], *(a[index] for a in inputs))

    run(work, out.shape[axis], out.size)
    return out


def copy(dst: Any, src: Any, axes: Sequence[int] = (0, 1)) -> Any:
    """``dst[...] = src`` in parts along the first of ``axes`` long enough to share."""
    usable = [a for a in axes if a < dst.ndim] or [0]
    axis = next((a for a in usable if dst.shape[a] >= _threads), usable[0])

    def assign(out: Any, a: Any) -> None:
        out[...] = a

    return elementwise(assign, dst, src, axis=axis)


def add_(out: Any, addend: Any) -> Any:
    """``out += addend`` (``addend`` broadcast over ``out``'s leading axis, as a bias over
    rows), in parts along that axis. Returns ``out``."""
    def part(rows: Any) -> None:
        np.add(rows, addend, out=rows)

    return elementwise(part, out, axis=0)
