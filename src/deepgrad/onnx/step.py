"""What a converter sees of one recorded op: the call in both traces, and the graph.

Export records the forward twice (see ``export``): with the example inputs, and with a
second input, larger along every dynamic axis (by 1, 2, ... per named dim) and with
other values. A
``Step`` pairs an op's two calls. Its helpers turn the op's arguments into ONNX value
names and attributes, and use the pairing to stay honest:

- an attribute (``stride``, ``axis``...) must be the same in both runs, else it depends
  on the batch and cannot be written as a constant (``attr`` says so);
- shapes are compared dim by dim, so a reshape knows which of its target dims follow the
  batch (``varying``) and writes -1 there instead of the example's size, or reads the
  size from the graph input it follows (``shape_value``);
- an argument that is neither the model's input, a parameter or buffer, nor an op's
  output is a constant of the graph (a NumPy array, a tensor made in ``forward``); it
  must be equal in both runs, else it was computed from the input by code the exporter
  cannot see (a comparison, ``argmax``, ``.numpy()``), and export says which op got it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad.onnx.errors import ExportError
from deepgrad.onnx.graph import Graph
from deepgrad.onnx.trace import ModuleCall, OpCall
from deepgrad.tensor import Tensor

if TYPE_CHECKING:
    from deepgrad.onnx.values import Values


def same(a: Any, b: Any) -> bool:
    """Whether two attribute values (numbers, tuples, slices, arrays, functions) agree."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False  # tensors are values of the graph, never attributes
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and type(a) is type(b) and all(
            same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, slice) and isinstance(b, slice):
        return same((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if callable(a) and callable(b) and hasattr(a, "__code__") and hasattr(b, "__code__"):
        return bool(a.__code__ is b.__code__)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def array_of(value: Any) -> Any:
    return value._array if isinstance(value, Tensor) else np.asarray(value)


class Step:
    """One recorded call (``OpCall`` or ``ModuleCall``) in both traces."""

    def __init__(self, graph: Graph, first: OpCall | ModuleCall, second: OpCall | ModuleCall,
                 values: tuple[Values, Values],
                 dims: dict[tuple[int, int], tuple[str, int]] | None = None) -> None:
        self.g = graph
        self.first = first
        self.second = second
        self.values = values
        self._dims = dims or {}  # (size, other batch's size) -> (graph input, axis)
        if isinstance(first, OpCall) and isinstance(second, OpCall):
            self._p1, self._p2 = first.params(), second.params()
            self._a1, self._a2 = first.args, second.args
        else:
            self._p1 = self._p2 = {}
            self._a1, self._a2 = first.args, second.args

    # ---- errors ---------------------------------------------------------------------------
    def where(self) -> str:
        path = self.first.module if isinstance(self.first, OpCall) else self.first.path
        module = f" in module '{path}'" if path else ""
        return f"{module} (called at {self.first.where})"

    def fail(self, why: str) -> ExportError:
        return ExportError(f"export: {self.first.name}{self.where()}: {why}")

    # ---- arguments ------------------------------------------------------------------------
    def _get(self, key: int | str) -> tuple[Any, Any]:
        if isinstance(key, int):
            if key >= len(self._a1):
                return None, None
            return self._a1[key], self._a2[key]
        if key not in self._p1:
            raise self.fail(f"the op has no parameter {key!r} (known: {', '.join(self._p1)}); "
                            f"deepgrad.onnx's mapping is out of date with this op")
        return self._p1[key], self._p2[key]

    def arg(self, key: int | str) -> Any:
        """The raw argument in the first trace (a tensor, an array, a number, None)."""
        return self._get(key)[0]

    def attr(self, key: int | str) -> Any:
        """A non-tensor argument that must be the same for both batches."""
        a, b = self._get(key)
        if not same(a, b):
            raise self.fail(f"its argument {key!r} depends on the input's size or values "
                            f"({a!r} for the example batch, {b!r} for another); it cannot be a "
                            f"constant of the ONNX graph. If it follows the batch size, export "
                            f"without that axis in dynamic_axes, or compute it from the input "
                            f"with deepgrad ops")
        return a

    def attr_pair(self, key: int | str) -> tuple[Any, Any]:
        """A non-tensor argument in both traces (for shapes that may follow the batch)."""
        return self._get(key)

    def value(self, key: int | str, dtype: Any = None) -> str:
        """The ONNX name of an argument: a graph input, a parameter, an earlier op's output,
        or a constant ("" for None, ONNX's omitted optional input)."""
        a, b = self._get(key)
        return self.value_of(a, b, str(key), dtype)

    def value_of(self, a: Any, b: Any, what: str, dtype: Any = None) -> str:
        if a is None:
            return ""
        first, second = self.values
        name = first.lookup(a)
        other = second.lookup(b)
        if name != other:
            raise self.fail(f"argument {what} is a different value in the two traces "
                            f"({name!r} / {other!r}); the forward does not run the same way "
                            f"for two batches")
        if name is not None:
            return name
        x, y = array_of(a), array_of(b)
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
            raise self.fail(
                f"argument {what} (an array of shape {tuple(x.shape)}) does not come from a "
                f"deepgrad op, the model's inputs or its parameters, and it changes with the "
                f"input (shape {tuple(y.shape)} for another batch). It was computed from the "
                f"input by code export cannot follow (a comparison, argmax, .numpy(), a "
                f"tensor built from a shape); build it from deepgrad ops instead")
        return self.g.const(x if dtype is None else x.astype(dtype), base=what)

    def shape(self, key: int | str) -> tuple[int, ...]:
        return tuple(array_of(self._get(key)[0]).shape)

    def ndim(self, key: int | str) -> int:
        return len(self.shape(key))

    def dtype(self, key: int | str) -> np.dtype:
        return array_of(self._get(key)[0]).dtype

    def varying(self, key: int | str) -> list[bool]:
        """Per dim of an argument, whether its size differs between the two batches."""
        a, b = self._get(key)
        return _varying(array_of(a).shape, array_of(b).shape)

    # ---- the output -----------------------------------------------------------------------
    @property
    def out_shape(self) -> tuple[int, ...]:
        assert isinstance(self.first, OpCall)
        return tuple(self.first.out.shape)

    @property
    def out_dtype(self) -> np.dtype:
        assert isinstance(self.first, OpCall)
        return self.first.out.dtype

    def out_varying(self) -> list[bool]:
        assert isinstance(self.first, OpCall) and isinstance(self.second, OpCall)
        return _varying(self.first.out.shape, self.second.out.shape)

    def runtime_size(self, first: int, second: int) -> str | None:
        """A 1-element int64 value holding, at run time, the size of the graph input's dynamic
        axis that was ``first`` and ``second`` in the two traces (None if there is none)."""
        found = self._dims.get((first, second))
        if found is None:
            return None
        name, axis = found
        return self.g.op("Gather", self.g.op("Shape", name), self.g.ints([axis], "axis"))

    def shape_value(self, sizes: list[int], varying: list[bool], second: list[int],
                    what: str) -> str:
        """A shape as an int64 vector value: constants, and the dynamic dims read at run time
        from the graph input they follow."""
        if not any(varying):
            return self.g.ints(sizes)
        parts = []
        for size, v, other in zip(sizes, varying, second, strict=True):
            if not v:
                parts.append(self.g.ints([size]))
                continue
            dim = self.runtime_size(size, other)
            if dim is None:
                raise self.fail(f"{what}: its dim of size {size} follows the dynamic axes but "
                                f"matches none of the graph inputs' dynamic axes")
            parts.append(dim)
        return self.g.op("Concat", *parts, axis=0)

    def scalar(self, value: float, dtype: Any = None) -> str:
        """A 0-d constant in the output's dtype (or ``dtype``)."""
        return self.g.const(np.asarray(value, dtype=dtype or self.out_dtype), base="scalar")


def _varying(a: tuple[int, ...], b: tuple[int, ...]) -> list[bool]:
    if len(a) != len(b):
        return [True] * len(a)
    return [x != y for x, y in zip(a, b, strict=True)]


Converter = Callable[[Step], str]
