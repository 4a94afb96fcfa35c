"""``deepgrad.accelerator``: torch 2.x's device-agnostic accelerator API, answering "none".

``torch.accelerator.current_accelerator()`` is how newer tutorials pick a
device (``acc.type if acc else "cpu"``); on the CPU it returns None.
"""

from __future__ import annotations

from deepgrad.devices import DeviceUnavailableError, device

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> device | None:
    """None: there is no accelerator (torch answers the same on a CPU-only machine)."""
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise DeviceUnavailableError(_NONE)


def synchronize(device: object = None) -> None:
    raise DeviceUnavailableError(_NONE)
