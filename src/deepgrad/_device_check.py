"""Which devices this backend runs on: the CPU only (NumPy), with torch's error for the rest."""

from __future__ import annotations

from typing import Any

CPU = "cpu"


def is_device_like(value: Any) -> bool:
    """A device given as a string ("cpu", "cuda:0") or a device object (``.type``)."""
    if isinstance(value, str):
        return value.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta")
    return type(value).__name__ == "device" and hasattr(value, "type")


def check_device(value: Any, where: str) -> None:
    """Accept the CPU; refuse an accelerator with a message that says why."""
    if value is None:
        return
    kind = value if isinstance(value, str) else getattr(value, "type", str(value))
    kind = str(kind).split(":")[0]
    if kind != "cpu":
        raise RuntimeError(
            f"{where}: deepgrad runs on NumPy (CPU): device {str(value)!r} is not available "
            f"here (deepgrad.cuda.is_available() is False); use 'cpu'")
