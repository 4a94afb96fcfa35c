"""Sequences of different lengths against torch: pad/pack/unpack give the same tensors and
gradients, and RNN/LSTM/GRU on a PackedSequence the same packed output, final states
(at each sequence's own last step, in the caller's order) and gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from deepgrad.nn.utils import rnn as R
from helpers import torch_or_skip

torch = torch_or_skip()
TR = torch.nn.utils.rnn
ATOL, RTOL = 1e-5, 1e-4
IN, HID = 4, 5
RNG = np.random.default_rng(0)


def _pair(arrays: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    return ([deepgrad.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _close(a: Any, b: Any, what: str) -> None:
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=ATOL, rtol=RTOL,
                               err_msg=what)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first: bool, padding_side: str) -> None:
    ours, theirs = _pair([RNG.standard_normal((n, 3)).astype(np.float32) for n in (2, 5, 1)])
    d = R.pad_sequence(ours, batch_first=batch_first, padding_value=-1.0,
                       padding_side=padding_side)
    t = TR.pad_sequence(theirs, batch_first=batch_first, padding_value=-1.0,
                        padding_side=padding_side)
    _close(d, t, "padded")
    w = RNG.standard_normal(tuple(t.shape)).astype(np.float32)
    (d * deepgrad.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        _close(a.grad, b.grad, "gradient")


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_back(enforce_sorted: bool, batch_first: bool) -> None:
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 4]
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    (x_d,), (x_t,) = _pair([RNG.standard_normal(shape).astype(np.float32)])
    pd = R.pack_padded_sequence(x_d, lengths, batch_first=batch_first,
                                enforce_sorted=enforce_sorted)
    pt = TR.pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=batch_first,
                                 enforce_sorted=enforce_sorted)
    _close(pd.data, pt.data, "packed data")
    assert pd.batch_sizes.tolist() == pt.batch_sizes.tolist()
    for name in ("sorted_indices", "unsorted_indices"):
        ours, theirs = getattr(pd, name), getattr(pt, name)
        assert (ours is None) == (theirs is None), name
        assert ours is None or ours.tolist() == theirs.tolist(), name
    for total in (None, 7):
        padded_d, len_d = R.pad_packed_sequence(pd, batch_first=batch_first, padding_value=9.0,
                                                total_length=total)
        padded_t, len_t = TR.pad_packed_sequence(pt, batch_first=batch_first, padding_value=9.0,
                                                 total_length=total)
        _close(padded_d, padded_t, f"padded back (total_length={total})")
        assert len_d.tolist() == len_t.tolist() and len_d.dtype == np.int64
    w = RNG.standard_normal(tuple(padded_t.shape)).astype(np.float32)
    (padded_d * deepgrad.tensor(w)).sum().backward()
    (padded_t * torch.tensor(w)).sum().backward()
    _close(x_d.grad, x_t.grad, "gradient through pack and pad")
    for a, b in zip(R.unpack_sequence(pd), TR.unpack_sequence(pt), strict=True):
        _close(a, b, "unpacked")
    for a, b in zip(R.unpad_sequence(padded_d, len_d, batch_first=batch_first),
                    TR.unpad_sequence(padded_t, len_t, batch_first=batch_first), strict=True):
        _close(a, b, "unpadded")


LAYERS = {"rnn": ("RNN", {}), "lstm": ("LSTM", {}), "gru": ("GRU", {}),
          "lstm_2_layers_bidirectional": ("LSTM", {"num_layers": 2, "bidirectional": True}),
          "gru_bidirectional": ("GRU", {"bidirectional": True}),
          "lstm_proj": ("LSTM", {"proj_size": 3})}


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_recurrent_layer_on_a_packed_batch(layer: str, enforce_sorted: bool,
                                           with_state: bool) -> None:
    cls, kwargs = LAYERS[layer]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(IN, HID, **kwargs)
    ours = getattr(nn, cls)(IN, HID, **kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    (x_d,), (x_t,) = _pair([RNG.standard_normal((4, 6, IN)).astype(np.float32)])
    pd = R.pack_padded_sequence(x_d, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    pt = TR.pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True,
                                 enforce_sorted=enforce_sorted)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    sizes = [kwargs.get("proj_size") or HID] + ([HID] if cls == "LSTM" else [])
    states_d, states_t = _pair([RNG.standard_normal((layers, 4, s)).astype(np.float32)
                                for s in sizes] if with_state else [])
    wrap = (lambda s: tuple(s)) if cls == "LSTM" else (lambda s: s[0])
    out_d, fin_d = ours(pd, wrap(states_d)) if with_state else ours(pd)
    out_t, fin_t = theirs(pt, wrap(states_t)) if with_state else theirs(pt)
    assert isinstance(out_d, R.PackedSequence)
    assert out_d.batch_sizes.tolist() == out_t.batch_sizes.tolist()
    finals_d = list(fin_d) if cls == "LSTM" else [fin_d]
    finals_t = list(fin_t) if cls == "LSTM" else [fin_t]
    outputs = [(out_d.data, out_t.data)] + list(zip(finals_d, finals_t, strict=True))
    loss_d = loss_t = 0
    for i, (a, b) in enumerate(outputs):
        _close(a, b, f"output {i}")
        w = RNG.standard_normal(tuple(b.shape)).astype(np.float32)
        loss_d = loss_d + (a * deepgrad.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_d.backward()
    loss_t.backward()
    _close(x_d.grad, x_t.grad, "gradient of the input")
    for a, b in zip(states_d, states_t, strict=True):
        _close(a.grad, b.grad, "gradient of an initial state")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, theirs_params[name].grad, f"gradient of {name}")


def test_bad_lengths_say_what_is_wrong() -> None:
    x = deepgrad.zeros(5, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order.*"
                                           "enforce_sorted=False"):
        R.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [5, 2, 0])
    with pytest.raises(ValueError, match="expected 3 lengths"):
        R.pack_padded_sequence(x, [5, 2])
    with pytest.raises(ValueError, match="exceeds the 5 time steps"):
        R.pack_padded_sequence(x, [6, 2, 1])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 5"):
        R.pad_packed_sequence(R.pack_padded_sequence(x, [5, 2, 1]), total_length=2)
    with pytest.raises(ValueError, match="same trailing sizes"):
        R.pad_sequence([deepgrad.zeros(2, 3), deepgrad.zeros(2, 4)])
    lstm = nn.LSTM(2, 3)
    with pytest.raises(ValueError, match="input_size=4"):
        nn.LSTM(4, 3)(R.pack_padded_sequence(x, [5, 2, 1]))
    out, (h, c) = lstm(R.pack_padded_sequence(x, [5, 2, 1]))
    assert tuple(h.shape) == (1, 3, 3) and tuple(out.data.shape) == (8, 3)
