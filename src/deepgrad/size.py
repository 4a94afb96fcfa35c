"""``deepgrad.Size``: torch's shape type, a tuple of ints with ``numel()``.

It prints as ``deepgrad.Size([2, 3])``, not ``torch.Size([2, 3])``: the repr
names the class that is really there, so output read next to torch's (as in
the parity tests, or a notebook mixing both) never says torch where it is
deepgrad. Comparisons are a tuple's, so ``deepgrad.Size([2, 3]) == (2, 3)``
and ``== torch.Size([2, 3])`` hold.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from typing import Any, SupportsIndex, overload


def _as_int(item: Any, position: int) -> int:
    try:
        return operator.index(item)
    except TypeError:
        raise TypeError(f"deepgrad.Size() takes an iterable of 'int' (item {position} is "
                        f"'{type(item).__name__}')") from None


class Size(tuple[int, ...]):
    """A tensor's shape: an immutable tuple of ints."""

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        return super().__new__(cls, (_as_int(s, i) for i, s in enumerate(sizes)))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"deepgrad.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # f"{x.shape}" reads "deepgrad.Size([2, 3])", as torch's does (the Tensors tutorial
        # prints shapes so); deepgrad's own messages write tuple(x.shape): "(2, 3)"
        return format(repr(self), spec)

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Size: ...

    def __getitem__(self, index: Any) -> Any:
        result = super().__getitem__(index)
        return Size(result) if isinstance(index, slice) else result

    def __add__(self, other: Any) -> Size:  # type: ignore[override]
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times: SupportsIndex) -> Size:
        return Size(tuple(self) * operator.index(times))

    __rmul__ = __mul__

    def __reduce__(self) -> tuple[Any, ...]:
        return (Size, (tuple(self),))
