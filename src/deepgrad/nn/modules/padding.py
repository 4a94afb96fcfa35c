"""Padding layers: ``ZeroPad*``, ``ConstantPad*``, ``ReflectionPad*``, ``ReplicationPad*``,
``CircularPad*`` for 1-D and 2-D inputs, each one ``F.pad`` call."""

from __future__ import annotations

from typing import Any

from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class _Pad(Module):
    mode = "constant"
    dims = 2

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        widths = 2 * self.dims
        self.padding = (tuple(int(p) for p in padding) if isinstance(padding, (tuple, list))
                        else (int(padding),) * widths)
        if len(self.padding) != widths:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {widths} ints "
                             f"(left, right{', top, bottom' if self.dims == 2 else ''}), got "
                             f"{padding!r}")
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self.mode == "constant":
            return F.pad(input, self.padding, value=self.value)
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}" + (f", value={self.value}" if type(self).__name__.startswith(
            "Constant") else "")


class ConstantPad1d(_Pad):
    """Pad the last dim with ``value``."""

    dims = 1

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_Pad):
    """Pad the last two dims with ``value``."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ZeroPad1d(_Pad):
    """Pad the last dim with zeros."""

    dims = 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(_Pad):
    """Pad the last two dims with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ReflectionPad1d(_Pad):
    """Mirror the last dim at its edges (the edge value itself not repeated)."""

    mode, dims = "reflect", 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Mirror the last two dims at their edges."""

    dims = 2


class ReplicationPad1d(_Pad):
    """Repeat the edge values of the last dim."""

    mode, dims = "replicate", 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Repeat the edge values of the last two dims."""

    dims = 2


class CircularPad1d(_Pad):
    """Wrap the last dim around."""

    mode, dims = "circular", 1

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class CircularPad2d(CircularPad1d):
    """Wrap the last two dims around."""

    dims = 2
