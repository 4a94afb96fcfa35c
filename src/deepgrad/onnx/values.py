"""Which ONNX value a tensor (or raw array) of the recorded forward is.

A tensor is found three ways, in this order:

1. by its graph node (``grad_fn``): export records with grad mode on, so every float op
   output has one. An in-place op (``nn.ReLU(inplace=True)``, ``x += 1``) leaves the
   same tensor object with the *new* node, so this follows in-place changes;
2. by the tensor object itself (inputs, parameters, integer results), as long as its
   version counter has not moved (an in-place change export did not see is an error);
3. by its array: ops take some inputs as raw arrays (embedding ids, batch-norm running
   statistics), which are the arrays of tensors already known.

Tensors are kept alive here, so their ``id`` is never reused while the export runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad.onnx.errors import ExportError
from deepgrad.tensor import Tensor


class Values:
    """One trace's map from tensors and arrays to ONNX value names."""

    def __init__(self, on_first_use: Callable[[str], None] | None = None) -> None:
        self._by_node: dict[int, str] = {}
        self._by_tensor: dict[int, tuple[str, Tensor, int]] = {}
        self._by_array: dict[int, tuple[str, Any]] = {}
        self._keep: list[Any] = []
        self._on_first_use = on_first_use

    def bind(self, tensor: Tensor, name: str, state: tuple[Any, int] | None = None) -> None:
        """``tensor`` is the ONNX value ``name``; ``state`` is its (node, version) when it was
        made (default: as it is now)."""
        node, version = state if state is not None else (tensor.grad_fn, tensor._version)
        self._keep.append(tensor)
        if node is not None:
            self._keep.append(node)
            self._by_node[id(node)] = name
        self._by_tensor[id(tensor)] = (name, tensor, version)
        self._by_array[id(tensor._array)] = (name, tensor._array)

    def lookup(self, value: Any) -> str | None:
        """The ONNX name of a tensor or array of this trace, or None for a constant."""
        name = self._find(value)
        if name is not None and self._on_first_use is not None:
            self._on_first_use(name)
        return name

    def _find(self, value: Any) -> str | None:
        if isinstance(value, Tensor):
            node = value.grad_fn
            if node is not None and id(node) in self._by_node:
                return self._by_node[id(node)]
            entry = self._by_tensor.get(id(value))
            if entry is not None and entry[1] is value:
                name, _, version = entry
                if value._version != version:
                    raise ExportError(
                        f"export: the tensor exported as {name!r} was changed in place by an "
                        f"operation export cannot follow (its version went from {version} to "
                        f"{value._version}); write that step out of place (y = x * 2, not "
                        f"x *= 2) or clone the tensor first")
                return name
            value = value._array
        if isinstance(value, np.ndarray):
            found = self._by_array.get(id(value))
            if found is not None and found[1] is value:
                return found[0]
        return None
