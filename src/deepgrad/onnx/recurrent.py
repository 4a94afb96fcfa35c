"""``RNN``/``LSTM``/``GRU`` and their cells as ONNX's own ``RNN``/``LSTM``/``GRU`` nodes.

Traced op by op, a recurrent layer would unroll into a few ops per time step with the
sequence length frozen in; ONNX has the layers themselves, so each layer of a deepgrad
module becomes one node (Netron shows "LSTM"), and the sequence length stays free.

What differs between torch's layout (which deepgrad keeps) and ONNX's:

- gate order: torch stacks LSTM gates as i, f, g, o and ONNX as i, o, f, c; GRU r, z, n
  against z, r, h. The weights are re-stacked here;
- ONNX's GRU applies the reset gate after the hidden projection only with
  ``linear_before_reset=1``, which is torch's formula;
- ONNX's output is ``(T, D, B, H)``; torch's ``(T, B, D*H)``: one Transpose + Reshape;
- each ONNX node is one layer (both directions); a stack of layers is a chain of nodes
  whose initial states are slices of ``h0``/``c0`` and whose final states are
  concatenated back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from deepgrad.onnx.step import Step

WHOLE = (RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell)

_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _reorder(array: Any, mode: str) -> np.ndarray:
    """torch's stacked gate blocks in ONNX's order."""
    order = _ORDER[mode]
    blocks = np.split(np.asarray(array), len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _layer_node(s: Step, mode: str, hidden: int, x: str, weights: list[tuple[Any, ...]],
                inits: list[str], layer: int) -> list[str]:
    """One ONNX RNN/LSTM/GRU node over ``x`` (T, B, F); ``weights`` per direction is
    ``(w_ih, w_hh, b_ih, b_hh)``. Returns ``[Y, Y_h(, Y_c)]``."""
    g = s.g
    w = g.const(np.stack([_reorder(d[0]._array, mode) for d in weights]), base=f"W_l{layer}")
    r = g.const(np.stack([_reorder(d[1]._array, mode) for d in weights]), base=f"R_l{layer}")
    b = ""
    if weights[0][2] is not None:
        b = g.const(np.stack([np.concatenate([_reorder(d[2]._array, mode),
                                              _reorder(d[3]._array, mode)])
                              for d in weights]), base=f"B_l{layer}")
    inputs = [x, w, r, b, "", *inits]
    while inputs and inputs[-1] == "":
        inputs.pop()
    directions = len(weights)
    attrs: dict[str, Any] = {"hidden_size": hidden,
                             "direction": "bidirectional" if directions == 2 else "forward"}
    if mode.startswith("RNN"):
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    return g.node(_OP[mode], inputs, 3 if mode == "LSTM" else 2, **attrs)


def _states(s: Step, hx1: Any, hx2: Any, count: int) -> list[Any]:
    """The initial-state arguments as (first, second) pairs, or None when not given."""
    if hx1 is None:
        return [None] * count
    if count == 1:
        return [(hx1, hx2)]
    return list(zip(hx1, hx2, strict=True))


def _inputs(s: Step) -> tuple[Any, Any, Any, Any]:
    call1, call2 = s.first, s.second
    assert not isinstance(call1, type(None))
    x1, x2 = call1.args[0], call2.args[0]
    hx1 = call1.args[1] if len(call1.args) > 1 else call1.kwargs.get("hx")  # type: ignore[union-attr]
    hx2 = call2.args[1] if len(call2.args) > 1 else call2.kwargs.get("hx")  # type: ignore[union-attr]
    return x1, x2, hx1, hx2


def convert(s: Step) -> list[str]:
    """The ONNX values of the module's outputs, flattened in order."""
    module = s.first.module  # type: ignore[union-attr]
    if isinstance(module, RNNBase):
        return _sequence(s, module)
    return _cell(s, module)


def _sequence(s: Step, m: RNNBase) -> list[str]:
    g = s.g
    if m.proj_size > 0:
        raise s.fail("an LSTM with proj_size has no ONNX LSTM equivalent")
    x1, x2, hx1, hx2 = _inputs(s)
    x = s.value_of(x1, x2, "input")
    batched = x1.ndim == 3
    if not batched:
        x = g.unsqueeze(x, [1])
    elif m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    count = 2 if m.mode == "LSTM" else 1
    states = []
    for k, pair in enumerate(_states(s, hx1, hx2, count)):
        if pair is None:
            states.append("")
            continue
        name = s.value_of(pair[0], pair[1], ("h0", "c0")[k])
        states.append(name if batched else g.unsqueeze(name, [1]))
    directions = 2 if m.bidirectional else 1
    finals: list[list[str]] = [[] for _ in range(count)]
    for layer in range(m.num_layers):
        weights = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
            weights.append(tuple(getattr(m, f"{kind}{suffix}", None)
                                 for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        inits = [g.op("Slice", st, g.ints([layer * directions], "starts"),
                      g.ints([(layer + 1) * directions], "ends"), g.ints([0], "axes"))
                 if st else "" for st in states]
        outs = _layer_node(s, m.mode, m.hidden_size, x, weights, inits, layer)
        y = g.op("Transpose", outs[0], perm=[0, 2, 1, 3])  # (T, B, D, H)
        x = g.op("Reshape", y, g.ints([0, 0, -1]))  # (T, B, D*H)
        for k in range(count):
            finals[k].append(outs[1 + k])
    out = x
    if not batched:
        out = g.squeeze(out, [1])
    elif m.batch_first:
        out = g.op("Transpose", out, perm=[1, 0, 2])
    results = [out]
    for parts in finals:
        final = parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)
        results.append(final if batched else g.squeeze(final, [1]))
    return results


def _cell(s: Step, m: Any) -> list[str]:
    """A cell is one step of its layer: the same node over a sequence of length 1."""
    g = s.g
    mode = {LSTMCell: "LSTM", GRUCell: "GRU"}.get(type(m)) or (
        "RNN_RELU" if getattr(m, "nonlinearity", "tanh") == "relu" else "RNN_TANH")
    x1, x2, hx1, hx2 = _inputs(s)
    axes = [0] if x1.ndim == 2 else [0, 1]  # (B, F) -> (1, B, F); (F,) -> (1, 1, F)
    x = g.unsqueeze(s.value_of(x1, x2, "input"), axes)
    count = 2 if mode == "LSTM" else 1
    inits = []
    for k, pair in enumerate(_states(s, hx1, hx2, count)):
        if pair is None:
            inits.append("")
        else:
            inits.append(g.unsqueeze(s.value_of(pair[0], pair[1], ("hx", "cx")[k]), axes))
    weights = [(m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)]
    outs = _layer_node(s, mode, m.hidden_size, x, weights, inits, 0)
    return [g.squeeze(state, axes) for state in outs[1:]]
