"""torch's ``set_num_threads`` / ``get_num_threads``: the threads of the BLAS behind
NumPy's matrix products, deepgrad's only multi-threaded work.

Its elementwise passes (ReLU, pooling, im2col copies, the optimizers) run on the calling
thread. Splitting them over a pool of Python threads was measured and dropped: 4-10%
*slower* at two threads on every CNN (the hand-offs, and OpenBLAS's threads spin-waiting
on the other core after each GEMM; docs/speed.md).

Changing the BLAS threads at run time needs threadpoolctl (in the ``lab`` extra); without
it, set ``OMP_NUM_THREADS`` before Python starts.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def _environment_threads() -> int:
    """What OpenBLAS and torch start with: ``OMP_NUM_THREADS`` (or the BLAS variables),
    else the CPUs this process may run on."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _blas_pools() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]


def get_num_threads() -> int:
    """The BLAS threads NumPy's matrix products use (torch.get_num_threads)."""
    pools = _blas_pools()
    return max(int(p["num_threads"]) for p in pools) if pools else _environment_threads()


def set_num_threads(threads: int) -> None:
    """Use ``threads`` BLAS threads from now on (torch.set_num_threads)."""
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {threads!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise RuntimeError(
            f"set_num_threads({threads}): changing the BLAS threads of a running process "
            f"needs threadpoolctl (pip install threadpoolctl, or deepgrad[lab]); or start "
            f"Python with OMP_NUM_THREADS={threads}") from exc
    threadpool_limits(limits=int(threads), user_api="blas")
