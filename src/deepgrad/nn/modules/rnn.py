"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step ``RNNCell``, ``LSTMCell``,
``GRUCell``, with torch's parameter names, gate order and initialisation, so a state_dict
moves between the two libraries unchanged.

Everything is composed from deepgrad's differentiable ops (``linear``, ``sigmoid``,
``tanh``, ``getitem``, ``stack``, ...), so autograd needs nothing new. The input
projection ``x W_ih^T + b_ih`` of a layer and direction is one matmul over the whole
sequence; only the recurrence ``h W_hh^T`` runs step by step, as it must.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from deepgrad import autograd, backend
from deepgrad.nn import functional as F
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.ops import elementwise as E
from deepgrad.ops import shape as S
from deepgrad.ops.creation import zeros
from deepgrad.ops.indexing import index_select
from deepgrad.tensor import Tensor

State = tuple[Tensor, ...]  # (h,) for RNN and GRU, (h, c) for LSTM


class RNNShapeError(ValueError, RuntimeError):
    """An input or hidden state of the wrong shape for a recurrent layer.

    A ``ValueError`` (deepgrad names the layer, the expected and the received shape)
    that is also a ``RuntimeError``, which torch raises here, so torch code that
    catches either still works.
    """


# ---- one time step, shared by the cells and the sequence layers -----------------
# ``gx`` is the input projection x W_ih^T + b_ih, already computed.

def _rnn_step(act: Callable[[Tensor], Tensor]) -> Callable[..., State]:
    """The Elman step ``h' = act(gx + h W_hh^T + b_hh)`` for ``act`` tanh or relu."""
    def step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
             w_hr: Tensor | None = None) -> State:
        return (act(E.add(gx, F.linear(state[0], w_hh, b_hh))),)
    return step


def _cols(x: Tensor, start: int, stop: int) -> Tensor:
    """Columns ``start:stop`` of the last dimension (one gate's block)."""
    return S.getitem(x, (Ellipsis, slice(start, stop)))


def _lstm_step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
               w_hr: Tensor | None = None) -> State:
    """torch's gate order i, f, g, o; ``c' = f c + i g``, ``h' = o tanh(c')`` (then
    ``h' W_hr^T`` when the LSTM has a projection)."""
    h, c = state
    n = c.shape[-1]
    gates = E.add(gx, F.linear(h, w_hh, b_hh))
    i = F.sigmoid(_cols(gates, 0, n))
    f = F.sigmoid(_cols(gates, n, 2 * n))
    g = F.tanh(_cols(gates, 2 * n, 3 * n))
    o = F.sigmoid(_cols(gates, 3 * n, 4 * n))
    c = E.add(E.mul(f, c), E.mul(i, g))
    h = E.mul(o, F.tanh(c))
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gx: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None) -> State:
    """torch's gate order r, z, n; the reset gate multiplies ``W_hn h + b_hn`` (not h),
    and ``h' = (1 - z) n + z h``, computed as ``n + z (h - n)``."""
    (h,) = state
    n = h.shape[-1]
    gh = F.linear(h, w_hh, b_hh)
    rz = F.sigmoid(E.add(_cols(gx, 0, 2 * n), _cols(gh, 0, 2 * n)))
    r, z = _cols(rz, 0, n), _cols(rz, n, 2 * n)
    new = F.tanh(E.add(_cols(gx, 2 * n, 3 * n), E.mul(r, _cols(gh, 2 * n, 3 * n))))
    return (E.add(new, E.mul(z, E.sub(h, new))),)


_STEPS: dict[str, Callable[..., State]] = {
    "RNN_TANH": _rnn_step(F.tanh),
    "RNN_RELU": _rnn_step(F.relu),
    "LSTM": _lstm_step,
    "GRU": _gru_step,
}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _time_steps(seq: Tensor) -> list[Tensor]:
    """``seq[0], ..., seq[T-1]`` of a (T, ...) tensor, sliced in two levels.

    getitem's backward scatters into zeros the size of its source, and the T slice
    gradients are then summed, so T slices straight from ``seq`` cost O(T^2) in backward
    (measured: 3.2 s of a 3.6 s LSTM backward at T=400, N=32, H=128). Slicing blocks of
    about sqrt(T) steps first, then the steps of each block, costs O(T^1.5) (that backward:
    0.6 s). An ``unbind`` op whose backward is one ``stack`` would make it O(T).
    """
    steps = seq.shape[0]
    block = max(1, math.isqrt(steps))
    out: list[Tensor] = []
    for start in range(0, steps, block):
        chunk = S.getitem(seq, slice(start, start + block))
        out.extend(S.getitem(chunk, j) for j in range(chunk.shape[0]))
    return out


def _check_sizes(name: str, input_size: Any, hidden_size: Any) -> None:
    for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type int, got: "
                            f"{type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")


def _new_param(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(backend.xp.empty(shape, dtype=dtype or backend.default_float_dtype()))


def _shape_error(where: str, what: str, expected: tuple[int, ...], meaning: str,
                 got: Tensor) -> RNNShapeError:
    return RNNShapeError(f"{where}: expected {what} of shape {expected} ({meaning}), got "
                         f"{tuple(got.shape)}")


class RNNBase(Module):
    """The shared body of ``RNN``, ``LSTM`` and ``GRU``: parameters per layer and
    direction, input and state checks, and the loop over layers and time."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        if mode not in _STEPS:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= float(dropout) <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if float(dropout) > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          f"layer, so non-zero dropout expects num_layers greater than 1, but "
                          f"got dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for arg, value in (("bias", bias), ("batch_first", batch_first),
                           ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {arg} should be of type bool, got: "
                                f"{type(value).__name__}")
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be an integer greater than zero, got "
                             f"{num_layers!r}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to "
                             f"disable projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size}, hidden_size={hidden_size}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        # torch's registration order (so state_dict keys come out in the same order).
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, _new_param(shape, dtype))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
        drawn in registration order from the global generator."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with autograd.no_grad():
            for weight in self.parameters():
                weight.uniform_(-bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for torch code (it packs weights for cuDNN there)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped by layer and direction, as torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_name(self) -> str:
        return f"{self._get_name()}({self.extra_repr()})"

    def _state_sizes(self) -> tuple[int, ...]:
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (real_hidden, self.hidden_size) if self.mode == "LSTM" else (real_hidden,)

    def _run(self, input: Tensor, hx: State | None) -> tuple[Tensor, State]:  # noqa: A002
        """Check ``input`` and ``hx`` in the caller's layout, then run all layers; returns
        the output and the final states in the caller's layout."""
        from deepgrad.nn.utils.rnn import PackedSequence

        where = self._layer_name()
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{where}: expected a Tensor or a PackedSequence input, got "
                            f"{type(input).__name__}")
        if input.ndim not in (2, 3):
            raise RNNShapeError(f"{where}: expected input to be 2-D (seq_len, features) or "
                                f"3-D, got {input.ndim}-D input of shape {tuple(input.shape)}")
        batched = input.ndim == 3
        if input.shape[-1] != self.input_size:
            layout = ("(batch, seq_len, input_size)" if self.batch_first else
                      "(seq_len, batch, input_size)") if batched else "(seq_len, input_size)"
            raise RNNShapeError(f"{where}: expected input with input_size={self.input_size} "
                                f"features in the last dimension {layout}, got input of "
                                f"shape {tuple(input.shape)}")
        self._check_dtype(input.dtype)
        if batched:
            x = S.transpose(input, 0, 1) if self.batch_first else input
        else:
            x = S.unsqueeze(input, 1)  # (T, 1, F): time-major with a batch of one
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise RNNShapeError(f"{where}: expected a sequence of at least one step, got "
                                f"input of shape {tuple(input.shape)}")
        out, finals = self._layers(x, self._initial_states(hx, batch, batched, input.dtype))
        if not batched:
            return S.squeeze(out, 1), tuple(S.squeeze(f, 1) for f in finals)
        if self.batch_first:
            out = S.transpose(out, 0, 1)
        return out, finals

    def _check_dtype(self, dtype: Any) -> None:
        weight = getattr(self, self._flat_weights_names[0])
        if dtype != weight.dtype:
            raise ValueError(f"{self._layer_name()}: input dtype ({dtype}) does not match "
                             f"weight dtype ({weight.dtype}); convert the input with "
                             f".to({weight.dtype}) or the model with .to({dtype})")

    def _initial_states(self, hx: State | None, batch: int, batched: bool,
                        dtype: Any) -> State:
        """``hx`` checked against ``(layers, batch, size)`` (zeros when None), each state
        ``(layers, batch, size)`` for the time-major loop."""
        where = self._layer_name()
        layers = self.num_layers * (2 if self.bidirectional else 1)
        names = ("h0", "c0") if self.mode == "LSTM" else ("h0",)
        states: list[Tensor] = []
        for k, size in enumerate(self._state_sizes()):
            if hx is None:
                states.append(zeros(layers, batch, size, dtype=dtype))
                continue
            expected = (layers, batch, size) if batched else (layers, size)
            if tuple(hx[k].shape) != expected:
                meaning = ("num_layers * num_directions, batch, "
                           f"{'proj_size' if size != self.hidden_size else 'hidden_size'}")
                if not batched:
                    meaning = meaning.replace("batch, ", "") + "; the input is unbatched"
                raise _shape_error(where, names[k], expected, meaning, hx[k])
            states.append(hx[k] if batched else S.unsqueeze(hx[k], 1))
        return tuple(states)

    def _run_packed(self, packed: Any, hx: State | None) -> tuple[Any, State]:
        """A PackedSequence: the padded, sorted batch runs with each sequence's state held
        after its last step; the output is packed again, the final states in the caller's
        batch order (``hx`` is given in that order too), as torch."""
        from deepgrad.nn.utils.rnn import PackedSequence, _pack_rows, _pad_rows

        where = self._layer_name()
        data = packed.data
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise RNNShapeError(f"{where}: expected PackedSequence data of shape (steps, "
                                f"input_size={self.input_size}), got {tuple(data.shape)}")
        self._check_dtype(data.dtype)
        batch_sizes = backend.to_numpy(packed.batch_sizes._array)
        x, valid = _pad_rows(data, batch_sizes, len(batch_sizes), 0.0)  # (T, B, F), sorted
        batch = x.shape[1]
        if hx is not None and packed.sorted_indices is not None:
            hx = tuple(index_select(h, 1, packed.sorted_indices) for h in hx)
        states = self._initial_states(hx, batch, True, data.dtype)
        running = Tensor(valid[:, :, None], _copy=False)
        out, finals = self._layers(x, states, running)
        out = _pack_rows(out, valid)
        if packed.unsorted_indices is not None:
            finals = tuple(index_select(f, 1, packed.unsorted_indices) for f in finals)
        return PackedSequence(out, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), finals

    def _layers(self, x: Tensor, hx: State, running: Tensor | None = None) -> tuple[Tensor, State]:
        """Time-major ``x`` (T, B, F) and states (L*D, B, *) -> output (T, B, D*H) and
        final states stacked as torch orders them (layer-major, forward before reverse).
        ``running`` (T, B, 1), for packed input: where it is False a sequence has ended
        (or, in reverse, not begun), and its state is carried through unchanged."""
        step = _STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        finals: list[State] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(index)
                gx = F.linear(x, w_ih, b_ih)  # the whole sequence in one matmul
                state = tuple(S.getitem(s, index) for s in hx)
                steps = _time_steps(gx)
                seq = list(steps)  # overwritten below with each step's h
                order = range(len(steps) - 1, -1, -1) if direction == 1 else range(len(steps))
                for t in order:
                    new = step(steps[t], state, w_hh, b_hh, w_hr)
                    if running is not None:
                        new = tuple(E.where(running[t], n, old) for n, old in zip(new, state,
                                                                                   strict=True))
                    state = new
                    seq[t] = state[0]
                outputs.append(S.stack(seq, 0))
                finals.append(state)
            x = outputs[0] if directions == 1 else S.cat(outputs, dim=2)
            if self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)
        return x, tuple(S.stack([f[k] for f in finals], 0) for k in range(len(hx)))

    def _weights(self, index: int) -> tuple[Any, ...]:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction; absent ones are None."""
        suffix = self._all_weights[index][0][len("weight_ih"):]
        return tuple(getattr(self, kind + suffix, None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU).

    ``forward(input, h0=None)`` takes input ``(L, N, H_in)`` (``(N, L, H_in)`` with
    ``batch_first``, ``(L, H_in)`` unbatched) and returns ``(output, h_n)``: the last
    layer's states at every step, ``(L, N, D * H_out)``, and every layer's final state,
    ``(num_layers * D, N, H_out)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        if hx is not None and not isinstance(hx, Tensor):
            raise TypeError(f"{self._layer_name()}: h0 must be a Tensor, got "
                            f"{type(hx).__name__}")
        out, (h_n,) = self._run(input, None if hx is None else (hx,))
        return out, h_n

    def extra_repr(self) -> str:
        # torch leaves the nonlinearity out; it is worth seeing when it is not the default.
        s = super().extra_repr()
        return s + (f", nonlinearity='{self.nonlinearity}'" if self.nonlinearity != "tanh"
                    else "")


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o as torch): the cell state ``c`` carries
    information across many steps because its update is additive, ``c' = f c + i g``.

    ``forward(input, (h0, c0)=None)`` returns ``(output, (h_n, c_n))``; with ``proj_size``
    the hidden state is projected to ``proj_size`` features by ``weight_hr_l{k}``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor,  # noqa: A002
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2
                               or not all(isinstance(h, Tensor) for h in hx)):
            raise TypeError(f"{self._layer_name()}: hx must be a tuple (h0, c0) of two "
                            f"Tensors, got {type(hx).__name__}")
        out, (h_n, c_n) = self._run(input, None if hx is None else tuple(hx))
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n as torch): ``n = tanh(W_in x + b_in + r (W_hn h
    + b_hn))``, ``h' = (1 - z) n + z h``. ``forward(input, h0=None)`` returns ``(output, h_n)``
    shaped as ``RNN``'s."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        if hx is not None and not isinstance(hx, Tensor):
            raise TypeError(f"{self._layer_name()}: h0 must be a Tensor, got "
                            f"{type(hx).__name__}")
        out, (h_n,) = self._run(input, None if hx is None else (hx,))
        return out, h_n


# ---- cells: one step, for hand-written loops ---------------------------------------

class RNNCellBase(Module):
    """Parameters ``weight_ih (G*H, in)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh``
    (``G`` gates), initialised as torch's cells, and the input and state checks."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_sizes(self._get_name(), input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _new_param((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = _new_param((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = _new_param((num_chunks * hidden_size,), dtype)
            self.bias_hh = _new_param((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with autograd.no_grad():
            for weight in self.parameters():
                weight.uniform_(-bound, bound)

    def _step(self, input: Tensor, hx: State | None, names: tuple[str, ...],  # noqa: A002
              step: Callable[..., State]) -> State:
        """Check shapes in the caller's layout (batched ``(N, *)`` or unbatched), run one
        step, and return the new states in the same layout."""
        where = f"{self._get_name()}({self.extra_repr()})"
        if not isinstance(input, Tensor):
            raise TypeError(f"{where}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise RNNShapeError(f"{where}: expected input to be 1-D or 2-D, got {input.ndim}-D "
                                f"input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RNNShapeError(f"{where}: expected input with input_size={self.input_size} "
                                f"features in the last dimension, got input of shape "
                                f"{tuple(input.shape)}")
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(f"{where}: input dtype ({input.dtype}) does not match weight "
                             f"dtype ({self.weight_ih.dtype})")
        batched = input.ndim == 2
        x = input if batched else S.unsqueeze(input, 0)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        states: list[Tensor] = []
        for k, name in enumerate(names):
            if hx is None:
                states.append(zeros(x.shape[0], self.hidden_size, dtype=input.dtype))
                continue
            if not isinstance(hx[k], Tensor):
                raise TypeError(f"{where}: {name} must be a Tensor, got {type(hx[k]).__name__}")
            if tuple(hx[k].shape) != expected:
                meaning = "batch, hidden_size" if batched else "hidden_size; the input is unbatched"
                raise _shape_error(where, name, expected, meaning, hx[k])
            states.append(hx[k] if batched else S.unsqueeze(hx[k], 0))
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        new = step(gx, tuple(states), self.weight_hh, self.bias_hh)
        return new if batched else tuple(S.squeeze(s, 0) for s in new)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman step, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU):
    ``forward(input, hx=None) -> h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity '{nonlinearity}'. Select from "
                             f"'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        step = _STEPS["RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"]
        (h,) = self._step(input, None if hx is None else (hx,), ("hx",), step)
        return h


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): ``forward(input, (h, c)=None) -> (h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor,  # noqa: A002
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell({self.extra_repr()}): hx must be a tuple (h, c) of "
                            f"two Tensors, got {type(hx).__name__}")
        h, c = self._step(input, None if hx is None else tuple(hx), ("hx[0]", "hx[1]"),
                          _lstm_step)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): ``forward(input, hx=None) -> h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        (h,) = self._step(input, None if hx is None else (hx,), ("hx",), _gru_step)
        return h
