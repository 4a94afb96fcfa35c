"""The ONNX graph being written: nodes, initializers and unique names.

Converters add nodes through ``Graph.node`` and constants through ``Graph.const``;
nothing here knows about deepgrad ops. Node names carry the module path
(``/conv1/Conv_0``), so Netron shows which layer each node belongs to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.onnx.errors import ExportError


class Graph:
    """Nodes in the order they were added (a topological order: the forward's order)."""

    def __init__(self, onnx: Any, opset: int) -> None:
        self.onnx = onnx
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self._taken: set[str] = set()
        self._counts: dict[str, int] = {}
        self.scope = ""  # the module path of the op being converted

    def unique(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``... when taken."""
        name, k = base, 0
        while name in self._taken:
            k += 1
            name = f"{base}_{k}"
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        if name in self._taken:
            raise ExportError(f"export: the name {name!r} is used twice (input, output or "
                              f"parameter names must be distinct)")
        self._taken.add(name)

    def node(self, op_type: str, inputs: list[str], outputs: int = 1,
             **attrs: Any) -> list[str]:
        """Add one node; returns its output names."""
        k = self._counts.get(op_type, 0)
        self._counts[op_type] = k + 1
        prefix = "/" + self.scope.replace(".", "/") + "/" if self.scope else "/"
        name = self.unique(f"{prefix}{op_type}_{k}")
        outs = [self.unique(f"{name}_output_{i}") for i in range(outputs)]
        attrs = {key: value for key, value in attrs.items() if value is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        """A one-output node."""
        return self.node(op_type, list(inputs), 1, **attrs)[0]

    def initializer(self, name: str, array: Any) -> str:
        """Store ``array`` as the initializer ``name`` (a name ``reserve``d or ``unique``)."""
        self.initializers[name] = self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(array), name)
        return name

    def const(self, value: Any, dtype: Any = None, base: str = "const") -> str:
        """A constant initializer named after the module and ``base`` (``flatten/shape``);
        ``dtype`` defaults to the value's own."""
        prefix = self.scope.replace(".", "/") + "/" if self.scope else ""
        return self.initializer(self.unique(prefix + base), np.asarray(value, dtype=dtype))

    def ints(self, values: Any, base: str = "shape") -> str:
        """An int64 vector constant (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64), base=base)

    # ---- opset-dependent forms ----------------------------------------------------------
    def reduce(self, op_type: str, x: str, axes: Any, keepdims: bool) -> str:
        """``ReduceSum``/``ReduceMean``/... over ``axes`` (None: all); ReduceSum takes its
        axes as an input since opset 13, the others since opset 18."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.op(op_type, x, keepdims=keep)
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes, "axes"), keepdims=keep)
        return self.op(op_type, x, axes=axes, keepdims=keep)

    def squeeze(self, x: str, axes: list[int]) -> str:
        return self.op("Squeeze", x, self.ints(axes, "axes"))

    def unsqueeze(self, x: str, axes: list[int]) -> str:
        return self.op("Unsqueeze", x, self.ints(axes, "axes"))
