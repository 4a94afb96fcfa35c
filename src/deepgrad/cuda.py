"""``deepgrad.cuda``: what ``torch.cuda`` answers on a machine without CUDA.

Tutorials guard GPU code with ``torch.cuda.is_available()`` and seed with
``torch.cuda.manual_seed_all``; those must work and say "no GPU". Calls that
need a GPU raise as a CPU build of torch does (an AssertionError, which here
is also a RuntimeError).
"""

from __future__ import annotations

from typing import Any

from deepgrad.devices import DeviceUnavailableError

_NOT_COMPILED = ("deepgrad runs on NumPy (CPU) and has no CUDA; guard GPU code with "
                 "deepgrad.cuda.is_available()")


def is_available() -> bool:
    """Always False: deepgrad computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as torch does without CUDA (``deepgrad.manual_seed``
    already seeds everything)."""
    int(seed)  # torch rejects what int() rejects


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def empty_cache() -> None:
    pass


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def synchronize(device: Any = None) -> None:
    """Raises, as torch without CUDA: there is no GPU work to wait for."""
    raise DeviceUnavailableError(f"synchronize: {_NOT_COMPILED}")


def current_device() -> int:
    raise DeviceUnavailableError(f"current_device: {_NOT_COMPILED}")


def get_device_name(device: Any = None) -> str:
    raise DeviceUnavailableError(f"get_device_name: {_NOT_COMPILED}")
