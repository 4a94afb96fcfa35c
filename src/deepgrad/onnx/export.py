"""``export``: a deepgrad model to an ONNX file, shaped like ``torch.onnx.export``.

How: the forward runs twice in eval mode with recording on (``trace``), once on the
example inputs and once on a second input that is larger along every dynamic axis (by a
different amount per named dim) and holds other values. The two recordings must run the
same ops; each op is then written as ONNX nodes by its entry in ``ops.OPS`` (or
``recurrent`` for whole layers), with the second run telling which sizes follow the
dynamic axes (see ``step``). The model is checked with ``onnx.checker`` before it is
written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.onnx.errors import ExportError, UnsupportedOpError
from deepgrad.onnx.graph import Graph
from deepgrad.onnx.ops import OPS
from deepgrad.onnx.recurrent import WHOLE
from deepgrad.onnx.recurrent import convert as convert_layer
from deepgrad.onnx.step import Step
from deepgrad.onnx.trace import ModuleCall, OpCall, recording, tensors_in
from deepgrad.onnx.values import Values
from deepgrad.tensor import Tensor

MIN_OPSET = 14  # Reshape's allowzero, and every op form used here
DEFAULT_OPSET = 17  # LayerNormalization's first opset; what torch.onnx long defaulted to

DynamicAxes = Mapping[str, Sequence[int] | Mapping[int, str]]


def require_onnx() -> Any:
    """The ``onnx`` package, or an error that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("deepgrad.onnx.export needs the onnx package: pip install "
                          "'deepgrad[onnx]' (onnx and onnxruntime, pinned)") from None
    return onnx


def export(model: Any, args: Any, f: Any, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, dynamic_axes: DynamicAxes | None = None,
           opset_version: int = DEFAULT_OPSET) -> Any:
    """Trace ``model(*args)`` and write it to ``f`` (a path, written atomically, or a binary
    file object) as ONNX; returns the ``onnx.ModelProto``.

    ``args``: a tensor or a tuple of tensors (the example inputs). ``input_names`` and
    ``output_names`` name the graph's inputs and outputs (default ``input``/``output``, or
    ``input_0``, ``input_1``... for several). ``dynamic_axes`` maps those names to the axes
    left free in the graph, as a list (``{"input": [0]}``) or with names for them
    (``{"input": {0: "batch"}, "output": {0: "batch"}}``). The model runs in eval mode
    (dropout off, batch norm on its running statistics) and is put back as it was.
    """
    from deepgrad.nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"export: model must be a deepgrad nn.Module, got {type(model).__name__}")
    onnx = require_onnx()
    latest = int(onnx.defs.onnx_opset_version())
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= latest:
        raise ValueError(f"export: opset_version must be an int from {MIN_OPSET} to {latest} "
                         f"(the installed onnx's newest), got {opset_version!r}")
    inputs = _example_inputs(args)
    in_names = _names("input_names", input_names, len(inputs), "input")
    dynamic = _dynamic_axes(dynamic_axes, inputs, in_names)
    first, second = _trace_twice(model, inputs, in_names, dynamic)
    flat1, flat2 = _flatten(first[1], "output"), _flatten(second[1], "output")
    out_names = _names("output_names", output_names, len(flat1), "output")
    unknown = set(dynamic) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError(f"export: dynamic_axes names {sorted(unknown)} are neither input "
                         f"names {list(in_names)} nor output names {list(out_names)}")
    for name, axes in dynamic.items():
        if name in out_names:
            ndim = flat1[out_names.index(name)].ndim
            bad = [a for a in axes if not 0 <= a < ndim]
            if bad:
                raise ValueError(f"export: dynamic_axes[{name!r}] has axes {bad}, but that "
                                 f"output has {ndim} dims")
    graph = Graph(onnx, opset_version)
    proto = _convert(graph, model, (first, second), in_names, out_names, dynamic, (flat1, flat2))
    onnx.checker.check_model(proto, full_check=True)
    _write(proto, f)
    return proto


# ---- arguments ----------------------------------------------------------------------------

def _example_inputs(args: Any) -> list[Tensor]:
    items = list(args) if isinstance(args, (tuple, list)) else [args]
    if not items:
        raise ValueError("export: args must hold at least one example input tensor")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, np.ndarray):
            item = Tensor(item, _copy=False)
        if not isinstance(item, Tensor):
            raise TypeError(f"export: args[{i}] must be a Tensor (an example input), got "
                            f"{type(item).__name__}")
        out.append(item)
    return out


def _names(what: str, given: Sequence[str] | None, count: int, default: str) -> list[str]:
    if given is None:
        return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    names = [str(n) for n in given]
    if len(names) != count:
        raise ValueError(f"export: {what} has {len(names)} names for {count} "
                         f"{default}{'s' if count != 1 else ''}")
    if len(set(names)) != len(names):
        raise ValueError(f"export: {what} repeats a name: {names}")
    return names


def _dynamic_axes(given: DynamicAxes | None, inputs: list[Tensor],
                  in_names: list[str]) -> dict[str, dict[int, str]]:
    """``{name: {axis: dim name}}``; list forms get torch's style of name."""
    out: dict[str, dict[int, str]] = {}
    for name, axes in (given or {}).items():
        if isinstance(axes, Mapping):
            named = {int(a): str(n) for a, n in axes.items()}
        else:
            named = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        if name in in_names:
            ndim = inputs[in_names.index(name)].ndim
            bad = [a for a in named if not 0 <= a < ndim]
            if bad:
                raise ValueError(f"export: dynamic_axes[{name!r}] has axes {bad}, but that "
                                 f"input has {ndim} dims")
        out[str(name)] = named
    return out


def _growth(dynamic: dict[str, dict[int, str]]) -> dict[str, int]:
    """How much larger the second batch is along each named dynamic dim: 1, 2, 3... in
    order of appearance, so two dims never grow alike and a size seen in both traces tells
    which dim it is (same name, same growth: the batch of ``x`` and of ``h0`` agree)."""
    growth: dict[str, int] = {}
    for axes in dynamic.values():
        for dim in axes.values():
            growth.setdefault(dim, len(growth) + 1)
    return growth


def _second_batch(x: Tensor, axes: dict[int, str], growth: dict[str, int]) -> Any:
    """Another example: flipped along the first axis, larger along each dynamic axis (by
    repeating its first slice), floats rescaled (so values that leak into constants are
    caught)."""
    a = np.array(x._array, copy=True)
    if a.ndim:
        a = np.ascontiguousarray(np.flip(a, axis=0))
    for axis, dim in sorted(axes.items()):
        extra = np.repeat(np.take(a, [0], axis=axis), growth[dim], axis=axis)
        a = np.concatenate([a, extra], axis=axis)
    if a.dtype.kind == "f":
        a = (a * 0.5 + 0.25).astype(x.dtype)
    return a


def _fresh(array: Any) -> Tensor:
    t = Tensor(np.array(array, copy=True), _copy=False)
    if t.dtype.kind == "f":
        t.requires_grad_(True)
    return t


Trace = tuple[list[Tensor], Any, list[Any]]  # inputs, output, calls


def _trace_twice(model: Any, inputs: list[Tensor], names: list[str],
                 dynamic: dict[str, dict[int, str]]) -> tuple[Trace, Trace]:
    was_training = model.training
    model.eval()
    try:
        first_in = [_fresh(x._array) for x in inputs]
        first = _trace(model, first_in)
        growth = _growth(dynamic)
        second_in = [_fresh(_second_batch(x, dynamic.get(n, {}), growth))
                     for x, n in zip(inputs, names, strict=True)]
        try:
            second = _trace(model, second_in)
        except Exception as exc:
            raise ExportError(f"export: the model failed on a second example input (larger "
                              f"along the dynamic axes {dynamic}): {type(exc).__name__}: {exc}"
                              ) from exc
    finally:
        model.train(was_training)
    return first, second


def _trace(model: Any, inputs: list[Tensor]) -> Trace:
    with autograd.enable_grad(), recording(model, WHOLE) as rec:
        out = model(*inputs)
    return inputs, out, rec.calls


def _flatten(value: Any, what: str) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v, what)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _flatten(v, what)]
    raise ExportError(f"export: the model's {what} holds a {type(value).__name__}; only "
                      f"tensors (in tuples, lists or dicts) can be graph outputs")


# ---- conversion ---------------------------------------------------------------------------

def _convert(g: Graph, model: Any, traces: tuple[Trace, Trace], in_names: list[str],
             out_names: list[str], dynamic: dict[str, dict[int, str]],
             outputs: tuple[list[Tensor], list[Tensor]]) -> Any:
    for name in [*in_names, *out_names]:
        g.reserve(name)
    pending: dict[str, Any] = {}

    def materialize(name: str) -> None:
        array = pending.pop(name, None)
        if array is not None:
            g.initializer(name, array)

    values = (Values(materialize), Values())
    for (inputs, _, _), v in zip(traces, values, strict=True):
        for x, name in zip(inputs, in_names, strict=True):
            v.bind(x, name)
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor is None or name in pending:
            continue
        g.reserve(name)
        pending[name] = tensor._array
        for v in values:
            v.bind(tensor, name)

    calls1, calls2 = traces[0][2], traces[1][2]
    if [c.name for c in calls1] != [c.name for c in calls2]:
        at = next((i for i, (a, b) in enumerate(zip(calls1, calls2, strict=False))
                   if a.name != b.name), min(len(calls1), len(calls2)))
        raise ExportError(
            f"export: the forward runs different ops for two batches ({len(calls1)} and "
            f"{len(calls2)} ops, first difference at op {at}); control flow that depends on "
            f"the input's values or size cannot be written as one ONNX graph")
    dims: dict[tuple[int, int], tuple[str, int]] = {}  # where each dynamic size comes from
    for x1, x2, name in zip(traces[0][0], traces[1][0], in_names, strict=True):
        for axis in dynamic.get(name, {}):
            dims.setdefault((x1.shape[axis], x2.shape[axis]), (name, axis))
    for c1, c2 in zip(calls1, calls2, strict=True):
        step = Step(g, c1, c2, values, dims)
        g.scope = c1.module if isinstance(c1, OpCall) else c1.path
        if isinstance(c1, ModuleCall):
            names = convert_layer(step)
            outs1, outs2 = tensors_in(c1.out), tensors_in(c2.out)
            states1, states2 = c1.states, c2.states  # type: ignore[union-attr]
        else:
            converter = OPS.get(c1.name)
            if converter is None:
                raise UnsupportedOpError(
                    f"export: op {c1.name}{step.where()} has no ONNX mapping; "
                    f"deepgrad.onnx maps: {', '.join(sorted(OPS))} (see docs/onnx.md)",
                    c1.name)
            names = [converter(step)]
            outs1, outs2 = [c1.out], [c2.out]  # type: ignore[union-attr]
            states1, states2 = [c1.state], [c2.state]  # type: ignore[union-attr]
        for t1, t2, s1, s2, name in zip(outs1, outs2, states1, states2, names, strict=True):
            values[0].bind(t1, name, s1)
            values[1].bind(t2, name, s2)
    g.scope = ""
    return _finish(g, model, traces, in_names, out_names, dynamic, outputs, values)


def _finish(g: Graph, model: Any, traces: tuple[Trace, Trace], in_names: list[str],
            out_names: list[str], dynamic: dict[str, dict[int, str]],
            outputs: tuple[list[Tensor], list[Tensor]], values: tuple[Values, Values]) -> Any:
    onnx = g.onnx
    helper = onnx.helper
    rename: dict[str, str] = {}
    produced = {out for node in g.nodes for out in node.output}
    for t1, t2, name in zip(*outputs, out_names, strict=True):
        found, other = values[0].lookup(t1), values[1].lookup(t2)
        if found is None or found != other:
            raise ExportError(f"export: output {name!r} is not computed by deepgrad ops from "
                              f"the inputs (a constant, or a tensor made outside the graph)")
        if found in produced and found not in rename and found not in out_names:
            rename[found] = name
        else:  # an input, a parameter, or a value that is already another output
            g.nodes.append(helper.make_node("Identity", [found], [name], name=f"/{name}_Identity"))
    for node in g.nodes:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]

    first_inputs, second_inputs = traces[0][0], traces[1][0]
    dim_names = {}
    for x1, x2, name in zip(first_inputs, second_inputs, in_names, strict=True):
        for axis, dim in dynamic.get(name, {}).items():
            dim_names[(x1.shape[axis], x2.shape[axis])] = dim
    graph_inputs = [_value_info(helper, name, x, dynamic.get(name, {}))
                    for x, name in zip(first_inputs, in_names, strict=True)]
    graph_outputs = []
    for t1, t2, name in zip(*outputs, out_names, strict=True):
        axes = dict(dynamic.get(name, {}))
        for axis, (a, b) in enumerate(zip(t1.shape, t2.shape, strict=True)):
            if a != b and axis not in axes:
                axes[axis] = dim_names.get((a, b), f"{name}_dim{axis}")
        graph_outputs.append(_value_info(helper, name, t1, axes))
    graph = helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs,
                              initializer=list(g.initializers.values()))
    opsets = [helper.make_opsetid("", g.opset)]
    from deepgrad import __version__

    return helper.make_model(graph, opset_imports=opsets, producer_name="deepgrad",
                             producer_version=__version__,
                             ir_version=helper.find_min_ir_version_for(opsets))


def _value_info(helper: Any, name: str, t: Tensor, axes: dict[int, str]) -> Any:
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
    shape = [axes.get(i, size) for i, size in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, elem, shape)


def _write(proto: Any, f: Any) -> None:
    from deepgrad.serialization import write_atomic

    payload = proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(payload)
    elif isinstance(f, (str, os.PathLike)):
        write_atomic(f, payload, "export")
    else:
        raise TypeError(f"export: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
