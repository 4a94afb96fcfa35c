"""``deepgrad.summary(model, input_size)``: layers, output shapes and parameter counts.

Runs one forward pass on a dummy batch with hooks on every layer (eval mode, no
graph, a private random generator, so the model and the global seed stream are
left exactly as they were), then prints a table like ``torchsummary``'s. Report
001's MNIST CNN gives 3,274,634 parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.nn.module import Module, RemovableHandle
from deepgrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from deepgrad.tensor import Tensor


@dataclass
class LayerInfo:
    """One row: a call of a layer during the dummy forward pass."""

    name: str
    type: str
    depth: int
    output_shape: Any = None
    num_params: int = 0
    trainable_params: int = 0
    repeat: bool = False  # a layer called again (``self.pool`` twice): params counted once


@dataclass
class ModelSummary:
    """The result of ``summary``: ``str()`` is the table; the counts are attributes."""

    model_name: str
    input_shapes: list[tuple[int, ...]]
    layers: list[LayerInfo] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    batch_size: int = -1
    param_bytes: int = 0

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def _shape_text(self, shape: Any) -> str:
        if isinstance(shape, list):
            return ", ".join(self._shape_text(s) for s in shape)
        if shape is None:
            return "--"
        dims = list(shape)
        if dims:
            dims[0] = self.batch_size
        return str(dims)

    def __str__(self) -> str:
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            label = f"{layer.name} ({layer.type})"
            params = "(shared)" if layer.repeat else f"{layer.num_params:,}"
            rows.append((label, self._shape_text(layer.output_shape), params))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        widths = [max(widths[0], 28), max(widths[1], 22), max(widths[2], 12)]
        total_width = sum(widths) + 4
        line = "=" * total_width
        dash = "-" * total_width

        def fmt(row: tuple[str, str, str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}"

        out = [dash, fmt(rows[0]), line]
        out += [fmt(r) for r in rows[1:]]
        out += [
            line,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            dash,
            f"Input size: {', '.join(str(list(s)) for s in self.input_shapes)}",
            f"Params size (MB): {self.param_bytes / 1024**2:.2f}",
            dash,
        ]
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"ModelSummary({self.model_name}: total_params={self.total_params:,}, "
                f"trainable_params={self.trainable_params:,}, layers={len(self.layers)})")

    def _repr_html_(self) -> str:
        """Jupyter's view: the table with output shapes and parameter counts."""
        from deepgrad.notebook.module_view import summary_html

        return summary_html(self)


def _shape_of(output: Any) -> Any:
    if isinstance(output, Tensor) or hasattr(output, "shape"):
        return tuple(int(s) for s in output.shape)
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return None


def _dummy_inputs(input_size: Any, dtypes: Sequence[Any] | None) -> list[Tensor]:
    sizes = [input_size] if input_size and isinstance(input_size[0], int) else list(input_size)
    dts = list(dtypes) if dtypes is not None else [backend.default_float_dtype()] * len(sizes)
    if len(dts) != len(sizes):
        raise ValueError(f"summary: got {len(sizes)} input sizes but {len(dts)} dtypes")
    rng = np.random.default_rng(0)  # private: the global seed stream stays untouched
    inputs = []
    for size, dt in zip(sizes, dts, strict=True):
        shape = (2, *(int(s) for s in size))
        dt = np.dtype(dt)
        data = rng.random(shape).astype(dt) if dt.kind == "f" else np.zeros(shape, dtype=dt)
        inputs.append(Tensor(backend.xp.asarray(data), _copy=False))
    return inputs


def summary(model: Module, input_size: Any = None, *, input_data: Any = None,
            batch_size: int = -1, dtypes: Sequence[Any] | None = None,
            verbose: int = 1) -> ModelSummary:
    """Print (``verbose=1``) and return the summary of ``model`` on inputs of
    ``input_size`` (one shape without the batch dim, e.g. ``(1, 28, 28)``, or a list of
    them), or on ``input_data`` (a tensor or a tuple of tensors, batch included).

    Each row is one call of a layer, named by its dotted path; a layer called twice
    shows "(shared)" the second time and its parameters count once in the total.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a deepgrad.nn.Module, got {type(model).__name__}")
    if input_data is not None:
        raw = input_data if isinstance(input_data, (tuple, list)) else [input_data]
        inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in raw]
    elif input_size is not None:
        inputs = _dummy_inputs(input_size, dtypes)
    else:
        raise ValueError("summary: give input_size (e.g. (1, 28, 28)) or input_data")

    names = {id(m): n for n, m in model.named_modules()}
    result = ModelSummary(type(model).__name__,
                          [tuple(x.shape[1:]) if input_data is None else tuple(x.shape)
                           for x in inputs],
                          batch_size=batch_size)
    seen: set[int] = set()
    handles: list[RemovableHandle] = []
    pending: list[LayerInfo] = []

    def pre_hook(module: Module, args: Any) -> None:
        name = names.get(id(module), "?")
        own = list(module.parameters(recurse=False))
        info = LayerInfo(name, module._get_name(), name.count("."),
                         num_params=sum(p.numel() for p in own),
                         trainable_params=sum(p.numel() for p in own if p.requires_grad),
                         repeat=id(module) in seen)
        seen.add(id(module))
        result.layers.append(info)
        pending.append(info)

    def post_hook(module: Module, args: Any, output: Any) -> None:
        pending.pop().output_shape = _shape_of(output)

    modes = {id(m): m.training for m in model.modules()}
    for module in model.modules():
        if module is model or isinstance(module, (Sequential, ModuleList, ModuleDict)):
            continue
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))
    try:
        model.eval()
        with autograd.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module in model.modules():
            module.__dict__["training"] = modes[id(module)]

    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    result.param_bytes = sum(p._array.nbytes for p in params)
    if verbose:
        print(result)
    return result
