"""``deepgrad.device``: torch's device objects, on a backend that only has the CPU.

Tutorials pick a device once (``device = torch.device("cuda" if
torch.cuda.is_available() else "cpu")``) and pass it everywhere, so the
object must parse, print and compare exactly as torch's does. Asking for
memory on anything but the CPU fails at once with an error that names the
fix, instead of silently computing on the CPU.
"""

from __future__ import annotations

import operator
import re
from typing import Any

DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)
"""torch's device types, in its order (its error message lists them so)."""

_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."
_pytype = type  # ``device(type=...)`` shadows the builtin inside the class


class DeviceUnavailableError(RuntimeError, AssertionError):
    """A device other than the CPU was asked for.

    A RuntimeError (what a CUDA build of torch raises on a machine without a GPU)
    and an AssertionError (what a CPU-only build of torch raises), so an ``except``
    written for either torch keeps working here.
    """


class device:  # noqa: N801 - torch's name
    """A device: a ``type`` ("cpu", "cuda", ...) and an optional ``index``.

    ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 1)``, ``device(other)``.
    Any torch device type can be named; only the CPU can hold tensors here.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: Any, index: Any = None) -> None:  # noqa: A002 - torch's name
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device object")
            self._type: str = type.type
            self._index: int | None = type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            # torch reads a bare int as an accelerator index; there is none here.
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            raise DeviceUnavailableError(_NO_ACCELERATOR)
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device string or a device, got "
                            f"{_pytype(type).__name__}")
        match = _DEVICE_STRING.fullmatch(type)
        if match is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        name, text_index = match.group(1), match.group(2)
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at "
                               f"start of device string: {type}")
        if index is not None:
            if text_index is not None:
                raise RuntimeError(f"type (string) must not include an index because index "
                                   f"was passed explicitly: {type}")
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): argument 'index' must be int, not "
                                f"{_pytype(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self._type = name
        self._index = int(text_index) if text_index is not None else (
            None if index is None else operator.index(index))

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other: object) -> bool:
        # As torch: a device never equals a string, even "cpu" == device("cpu") is False.
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (str(self),))

    def __enter__(self) -> device:
        """``with deepgrad.device("cpu"):`` makes it the default device inside the block."""
        checked = check_device(self, "device.__enter__")
        _default_stack.append(_default_device[0])
        _default_device[0] = checked
        return self

    def __exit__(self, *exc: object) -> None:
        _default_device[0] = _default_stack.pop()


_CPU = device("cpu")
_default_device: list[device] = [_CPU]
_default_stack: list[device] = []


def unavailable(what: Any, op: str) -> DeviceUnavailableError:
    """The error for asking ``op`` to put memory on a device deepgrad cannot reach."""
    return DeviceUnavailableError(
        f"{op}: deepgrad runs on NumPy (CPU): device '{what}' is not available; "
        f"deepgrad.cuda.is_available() is False here; pass device='cpu', or choose it "
        f"with 'cuda' if deepgrad.cuda.is_available() else 'cpu'")


def check_device(dev: Any, op: str) -> device:
    """The CPU device for a ``device=`` argument (None means the default device);
    any other device raises ``DeviceUnavailableError`` naming ``op``."""
    if dev is None:
        return _default_device[0]
    resolved = dev if isinstance(dev, device) else device(dev)
    if resolved.type != "cpu":
        raise unavailable(resolved, op)
    return resolved


def set_default_device(dev: Any) -> None:
    """Set the device factories use when given none. Only the CPU exists here, so
    "cuda"/"mps" fail now rather than at the first factory call (torch fails later)."""
    _default_device[0] = _CPU if dev is None else check_device(dev, "set_default_device")


def get_default_device() -> device:
    """The device factories use when given none (always the CPU here)."""
    return _default_device[0]
