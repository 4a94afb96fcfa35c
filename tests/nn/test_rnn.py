"""Recurrent layers against PyTorch: the same state_dict in, the same outputs, final states
and gradients (input, initial states, every parameter) out; plus float64 gradchecks,
state_dict round trips, inter-layer dropout and the shape errors.

``run_pair`` builds torch's module, loads its state_dict into deepgrad's through NumPy
arrays, runs both on one input and backpropagates one random weighted sum of all
outputs. Tolerances are stated once, below.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from deepgrad.nn.modules.rnn import RNNShapeError
from helpers import torch_or_skip

torch = torch_or_skip()
FWD_ATOL, FWD_RTOL = 1e-5, 1e-4
GRAD_ATOL, GRAD_RTOL = 1e-5, 1e-4
IN, HID, BATCH = 4, 5, 3

SEQ_LAYERS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
# name -> (constructor kwargs, seq_len, batched, with initial state)
SEQ_CONFIGS: dict[str, tuple[dict[str, Any], int, bool, bool]] = {
    "one_layer": ({}, 5, True, False),
    "one_layer_h0": ({}, 5, True, True),
    "one_step": ({}, 1, True, True),
    "long_uneven_blocks": ({}, 11, True, True),
    "two_layers": ({"num_layers": 2}, 4, True, False),
    "two_layers_h0": ({"num_layers": 2}, 4, True, True),
    "batch_first_h0": ({"batch_first": True}, 4, True, True),
    "bidirectional": ({"bidirectional": True}, 4, True, False),
    "bidirectional_h0": ({"bidirectional": True}, 4, True, True),
    "two_layers_bidir_batch_first_h0": ({"num_layers": 2, "bidirectional": True,
                                         "batch_first": True}, 4, True, True),
    "no_bias_two_layers_bidir": ({"bias": False, "num_layers": 2, "bidirectional": True},
                                 4, True, True),
    "unbatched": ({}, 5, False, False),
    "unbatched_h0_two_layers_bidir": ({"num_layers": 2, "bidirectional": True}, 4, False,
                                      True),
    "unbatched_batch_first_h0": ({"batch_first": True}, 4, False, True),
}


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


def _make(cls: str, kwargs: dict[str, Any], seed: int = 0) -> tuple[Any, Any]:
    """torch's module and deepgrad's, with torch's parameters loaded through NumPy."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(IN, HID, **kwargs)
    ours = getattr(nn, cls)(IN, HID, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(out: Any) -> list[Any]:
    """``(output, h_n)`` / ``(output, (h_n, c_n))`` / ``h`` / ``(h, c)`` as a flat list."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def run_pair(ours: Any, theirs: Any, x: np.ndarray, states: list[np.ndarray] | None,
             wrap_states: Any) -> None:
    """Forward both, compare outputs; backward a weighted sum, compare all gradients."""
    xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sd = [deepgrad.tensor(s, requires_grad=True) for s in states or []]
    st = [torch.tensor(s, requires_grad=True) for s in states or []]
    outs_d = _flat(ours(xd, wrap_states(sd)) if states else ours(xd))
    outs_t = _flat(theirs(xt, wrap_states(st)) if states else theirs(xt))
    assert len(outs_d) == len(outs_t)
    rng = np.random.default_rng(1)
    loss_d, loss_t = None, None
    for i, (od, ot) in enumerate(zip(outs_d, outs_t, strict=True)):
        assert tuple(od.shape) == tuple(ot.shape), f"output {i}: {od.shape} vs {ot.shape}"
        assert od.dtype == np.float32
        np.testing.assert_allclose(_np(od), _np(ot), atol=FWD_ATOL, rtol=FWD_RTOL,
                                   err_msg=f"output {i} differs from torch")
        w = rng.standard_normal(ot.shape).astype(np.float32)
        term_d, term_t = (od * deepgrad.tensor(w)).sum(), (ot * torch.from_numpy(w)).sum()
        loss_d = term_d if loss_d is None else loss_d + term_d
        loss_t = term_t if loss_t is None else loss_t + term_t
    loss_d.backward()
    loss_t.backward()
    for name, a, b in [("input", xd, xt)] + [(f"state {i}", a, b)
                                              for i, (a, b) in enumerate(zip(sd, st, strict=True))]:
        assert a.grad is not None, f"no gradient reached the {name}"
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), atol=GRAD_ATOL, rtol=GRAD_RTOL,
                                   err_msg=f"gradient of the {name} differs from torch")
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"no gradient reached {name}"
        np.testing.assert_allclose(_np(p.grad), theirs_params[name].grad.numpy(),
                                   atol=GRAD_ATOL, rtol=GRAD_RTOL,
                                   err_msg=f"gradient of {name} differs from torch")


def _seq_case(cls: str, kwargs: dict[str, Any], steps: int, batched: bool,
              with_state: bool, seed: int = 0) -> None:
    ours, theirs = _make(cls, kwargs, seed)
    rng = np.random.default_rng(seed)
    batch_first = kwargs.get("batch_first", False)
    if batched:
        shape = (BATCH, steps, IN) if batch_first else (steps, BATCH, IN)
    else:
        shape = (steps, IN)
    x = rng.standard_normal(shape).astype(np.float32)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    sizes = [kwargs.get("proj_size") or HID] + ([HID] if cls == "LSTM" else [])
    states = None
    if with_state:
        states = [rng.standard_normal((layers, BATCH, s) if batched else (layers, s))
                  .astype(np.float32) for s in sizes]
    run_pair(ours, theirs, x, states, (lambda s: tuple(s)) if cls == "LSTM" else
             (lambda s: s[0]))


@pytest.mark.parametrize("config", list(SEQ_CONFIGS))
@pytest.mark.parametrize("layer", list(SEQ_LAYERS))
def test_sequence_layer_matches_torch(layer: str, config: str) -> None:
    cls, base = SEQ_LAYERS[layer]
    kwargs, steps, batched, with_state = SEQ_CONFIGS[config]
    _seq_case(cls, {**base, **kwargs}, steps, batched, with_state)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("kwargs", [{"proj_size": 3}, {"proj_size": 2, "num_layers": 2,
                                                       "bidirectional": True}])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_with_projection_matches_torch(kwargs: dict[str, Any], with_state: bool) -> None:
    _seq_case("LSTM", kwargs, 4, True, with_state)


CELLS = {
    "rnn_cell_tanh": ("RNNCell", {}),
    "rnn_cell_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "lstm_cell": ("LSTMCell", {}),
    "gru_cell": ("GRUCell", {}),
}
# name -> (constructor kwargs, batched, with initial state)
CELL_CONFIGS: dict[str, tuple[dict[str, Any], bool, bool]] = {
    "batched": ({}, True, False),
    "batched_hx": ({}, True, True),
    "unbatched": ({}, False, False),
    "unbatched_hx": ({}, False, True),
    "no_bias_hx": ({"bias": False}, True, True),
}


@pytest.mark.parametrize("config", list(CELL_CONFIGS))
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_matches_torch(cell: str, config: str) -> None:
    cls, base = CELLS[cell]
    kwargs, batched, with_state = CELL_CONFIGS[config]
    ours, theirs = _make(cls, {**base, **kwargs})
    rng = np.random.default_rng(2)
    x = rng.standard_normal((BATCH, IN) if batched else (IN,)).astype(np.float32)
    count = 2 if cls == "LSTMCell" else 1
    states = [rng.standard_normal((BATCH, HID) if batched else (HID,)).astype(np.float32)
              for _ in range(count)] if with_state else None
    run_pair(ours, theirs, x, states, (lambda s: tuple(s)) if count == 2 else (lambda s: s[0]))


def test_cell_unrolled_equals_sequence_layer() -> None:
    """An LSTMCell stepped by hand with the layer's weights gives the LSTM's output."""
    deepgrad.manual_seed(0)
    layer = nn.LSTM(IN, HID)
    cell = nn.LSTMCell(IN, HID)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = deepgrad.randn(6, BATCH, IN)
    out, (h_n, c_n) = layer(x)
    h = c = deepgrad.zeros(BATCH, HID)
    for t in range(6):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(_np(h), _np(out[t]), atol=1e-6)
    np.testing.assert_allclose(_np(c), _np(c_n[0]), atol=1e-6)


# ---- float64 gradient checks ----------------------------------------------------------

@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_gradcheck_float64(cls: str) -> None:
    """Finite differences through two bidirectional layers, for input, h0 (c0) and every
    parameter."""
    deepgrad.manual_seed(0)
    layer = getattr(nn, cls)(3, 2, num_layers=2, bidirectional=True, dtype=deepgrad.float64)
    rng = np.random.default_rng(0)
    x = deepgrad.tensor(rng.standard_normal((3, 2, 3)), requires_grad=True)
    states = [deepgrad.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
              for _ in range(2 if cls == "LSTM" else 1)]
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)

    def fn(x: Any, *rest: Any) -> Any:
        hx = tuple(rest[:2]) if cls == "LSTM" else rest[0]
        return _flat(layer(x, hx))

    assert deepgrad.gradcheck(fn, [x, *states, *params], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_gradcheck_float64(cls: str) -> None:
    deepgrad.manual_seed(1)
    cell = getattr(nn, cls)(3, 4, dtype=deepgrad.float64)
    rng = np.random.default_rng(1)
    x = deepgrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    states = [deepgrad.tensor(rng.standard_normal((2, 4)), requires_grad=True)
              for _ in range(2 if cls == "LSTMCell" else 1)]

    def fn(x: Any, *rest: Any) -> Any:
        return _flat(cell(x, tuple(rest[:2]) if cls == "LSTMCell" else rest[0]))

    assert deepgrad.gradcheck(fn, [x, *states, *cell.parameters()], atol=1e-6, rtol=1e-4)


# ---- state_dict, init, repr -------------------------------------------------------------

ROUND_TRIP = [("RNN", {"num_layers": 2, "nonlinearity": "relu"}),
              ("LSTM", {"num_layers": 2, "bidirectional": True}),
              ("LSTM", {"proj_size": 2, "bias": False}),
              ("GRU", {"num_layers": 3, "bidirectional": True, "bias": False})]


@pytest.mark.parametrize(("cls", "kwargs"), ROUND_TRIP)
def test_state_dict_round_trip_both_ways(cls: str, kwargs: dict[str, Any]) -> None:
    """deepgrad -> torch -> deepgrad: the same names, shapes, values and outputs."""
    deepgrad.manual_seed(5)
    ours = getattr(nn, cls)(IN, HID, **kwargs)
    theirs = getattr(torch.nn, cls)(IN, HID, **kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert all(tuple(ours_sd[k].shape) == tuple(v.shape) for k, v in theirs_sd.items())
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours_sd.items()})
    back = getattr(nn, cls)(IN, HID, **kwargs)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v, err_msg=k)
    x = np.random.default_rng(0).standard_normal((4, BATCH, IN)).astype(np.float32)
    out_d, out_b, out_t = ours(deepgrad.tensor(x))[0], back(deepgrad.tensor(x))[0], \
        theirs(torch.from_numpy(x))[0]
    np.testing.assert_array_equal(_np(out_b), _np(out_d))
    np.testing.assert_allclose(_np(out_d), _np(out_t), atol=FWD_ATOL, rtol=FWD_RTOL)


def test_state_dict_survives_a_checkpoint_file(tmp_path: Any) -> None:
    deepgrad.manual_seed(0)
    ours = nn.GRU(IN, HID, num_layers=2, bidirectional=True)
    path = tmp_path / "gru.safetensors"
    deepgrad.save(ours.state_dict(), path)
    deepgrad.manual_seed(1)
    other = nn.GRU(IN, HID, num_layers=2, bidirectional=True)
    other.load_state_dict(deepgrad.load(path))
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k], v, err_msg=k)


def test_cell_names_and_shapes_equal_torch() -> None:
    for cls in ("RNNCell", "LSTMCell", "GRUCell"):
        for bias in (True, False):
            ours = getattr(nn, cls)(IN, HID, bias=bias)
            theirs = getattr(torch.nn, cls)(IN, HID, bias=bias)
            assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
                [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
            assert (ours.bias_ih is None) == (not bias)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_is_uniform_in_torch_bound_and_seeded(cls: str) -> None:
    bound = 1 / math.sqrt(16)
    deepgrad.manual_seed(3)
    a = getattr(nn, cls)(8, 16)
    deepgrad.manual_seed(3)
    b = getattr(nn, cls)(8, 16)
    values = np.concatenate([_np(p).ravel() for p in a.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound  # spans the range
    assert abs(values.mean()) < 0.02 and abs(values.std() - bound / math.sqrt(3)) < 0.01
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(_np(p), _np(q), err_msg=name)
        assert p.requires_grad and p.dtype == np.float32
    assert len({_np(p).tobytes() for p in a.parameters()}) == len(list(a.parameters()))


@pytest.mark.parametrize(("cls", "args", "kwargs"), [
    ("LSTM", (10, 20), {"num_layers": 2, "batch_first": True, "dropout": 0.5,
                        "bidirectional": True}),
    ("LSTM", (10, 20), {"proj_size": 5}),
    ("GRU", (3, 4), {"bias": False}),
    ("RNN", (3, 4), {}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu"}),
    ("LSTMCell", (3, 4), {"bias": False}),
    ("GRUCell", (3, 4), {}),
])
def test_repr_matches_torch(cls: str, args: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    assert repr(getattr(nn, cls)(*args, **kwargs)) == \
        repr(getattr(torch.nn, cls)(*args, **kwargs))


def test_relu_rnn_repr_names_its_nonlinearity() -> None:
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"


def test_all_weights_group_by_layer_and_direction_as_torch() -> None:
    ours, theirs = nn.LSTM(IN, HID, 2, bidirectional=True), \
        torch.nn.LSTM(IN, HID, 2, bidirectional=True)
    assert [[tuple(p.shape) for p in g] for g in ours.all_weights] == \
        [[tuple(p.shape) for p in g] for g in theirs.all_weights]
    assert ours.all_weights[3][0] is ours.weight_ih_l1_reverse


# ---- dropout between layers -------------------------------------------------------------

def test_dropout_between_layers_only_in_train_mode() -> None:
    ours, theirs = _make("GRU", {"num_layers": 3, "dropout": 0.5})
    x = np.random.default_rng(0).standard_normal((5, BATCH, IN)).astype(np.float32)
    xd = deepgrad.tensor(x)
    ours.train()
    out1, h1 = ours(xd)
    out2, _ = ours(xd)
    assert not np.allclose(_np(out1), _np(out2)), "train mode: masks must differ per call"
    ours.eval()
    theirs.eval()
    out3, h3 = ours(xd)
    out4, _ = ours(xd)
    np.testing.assert_array_equal(_np(out3), _np(out4))
    np.testing.assert_allclose(_np(out3), _np(theirs(torch.from_numpy(x))[0]), atol=FWD_ATOL)
    # the first layer is computed before any dropout: its final state is untouched
    np.testing.assert_allclose(_np(h1[0]), _np(h3[0]), atol=1e-6)
    assert not np.allclose(_np(h1[1]), _np(h3[1]))


def test_dropout_one_feeds_zeros_to_the_next_layer() -> None:
    """With p=1 in training the second layer sees zeros: it equals a one-layer LSTM run on
    zeros with the second layer's weights."""
    deepgrad.manual_seed(0)
    two = nn.LSTM(IN, HID, num_layers=2, dropout=1.0).train()
    one = nn.LSTM(HID, HID)
    one.load_state_dict({k.replace("_l1", "_l0"): v for k, v in two.state_dict().items()
                         if "_l1" in k})
    x = deepgrad.randn(4, BATCH, IN, requires_grad=True)
    out, (h_n, c_n) = two(x)
    ref, (h_ref, c_ref) = one(deepgrad.zeros(4, BATCH, HID))
    np.testing.assert_allclose(_np(out), _np(ref), atol=1e-6)
    np.testing.assert_allclose(_np(c_n[1]), _np(c_ref[0]), atol=1e-6)
    (out.sum() + h_n[0].sum()).backward()
    assert x.grad is not None and np.any(_np(x.grad))  # reaches x through layer 0's h_n


def test_dropout_with_one_layer_warns_and_does_nothing() -> None:
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        layer = nn.RNN(IN, HID, dropout=0.5)
    x = deepgrad.randn(4, BATCH, IN)
    train_out = _np(layer.train()(x)[0])
    np.testing.assert_array_equal(train_out, _np(layer.eval()(x)[0]))


def test_no_grad_forward_builds_no_graph() -> None:
    layer = nn.LSTM(IN, HID, 2, bidirectional=True)
    with deepgrad.no_grad():
        out, (h_n, c_n) = layer(deepgrad.randn(4, BATCH, IN))
    assert not out.requires_grad and not h_n.requires_grad and not c_n.requires_grad
    assert out.shape == (4, BATCH, 2 * HID) and h_n.shape == c_n.shape == (4, BATCH, HID)


# ---- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_wrong_input_size_names_layer_and_shapes(cls: str) -> None:
    layer = getattr(nn, cls)(IN, HID, num_layers=2)
    with pytest.raises(ValueError, match=rf"{cls}\(4, 5, num_layers=2\).*input_size=4.*"
                                         r"\(6, 3, 7\)") as info:
        layer(deepgrad.randn(6, 3, 7))
    assert isinstance(info.value, RuntimeError)  # torch raises RuntimeError here
    with pytest.raises(ValueError, match="expected input to be 2-D.*or 3-D, got 4-D"):
        layer(deepgrad.randn(2, 6, 3, IN))


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_wrong_input_size_names_layer_and_shapes(cls: str) -> None:
    cell = getattr(nn, cls)(IN, HID)
    with pytest.raises(ValueError, match=rf"{cls}\(4, 5\).*input_size=4.*\(3, 7\)"):
        cell(deepgrad.randn(3, 7))
    with pytest.raises(ValueError, match="expected input to be 1-D or 2-D, got 3-D"):
        cell(deepgrad.randn(1, 3, IN))
    wrong = deepgrad.randn(2, HID)
    with pytest.raises(ValueError, match=r"expected hx.* of shape \(3, 5\).*got \(2, 5\)"):
        cell(deepgrad.randn(3, IN), (wrong, wrong) if cls == "LSTMCell" else wrong)
    with pytest.raises(ValueError, match=r"expected hx.* of shape \(5,\).*unbatched.*"
                                         r"got \(1, 5\)"):
        one = deepgrad.randn(1, HID)
        cell(deepgrad.randn(IN), (one, one) if cls == "LSTMCell" else one)


@pytest.mark.parametrize(("h0_shape", "expected"), [
    ((1, 3, HID), (2, 3, HID)),        # too few layers
    ((2, 4, HID), (2, 3, HID)),        # wrong batch
    ((2, 3, HID + 1), (2, 3, HID)),    # wrong hidden size
    ((2, HID), (2, 3, HID)),           # 2-D state for batched input
])
def test_wrong_h0_shape_names_expected_and_received(h0_shape: tuple[int, ...],
                                                    expected: tuple[int, ...]) -> None:
    layer = nn.GRU(IN, HID, num_layers=2)
    with pytest.raises(ValueError, match=rf"GRU\(4, 5, num_layers=2\): expected h0 of shape "
                                         rf"{re_shape(expected)}.*got {re_shape(h0_shape)}"):
        layer(deepgrad.randn(6, 3, IN), deepgrad.randn(*h0_shape))


def re_shape(shape: tuple[int, ...]) -> str:
    return "\\(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + "\\)"


def test_lstm_state_errors() -> None:
    layer = nn.LSTM(IN, HID, bidirectional=True, proj_size=3)
    x = deepgrad.randn(6, 3, IN)
    h0, c0 = deepgrad.zeros(2, 3, 3), deepgrad.zeros(2, 3, HID)
    layer(x, (h0, c0))  # the right shapes: h0 has proj_size features, c0 hidden_size
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 3, 5\).*got \(2, 3, 3\)"):
        layer(x, (h0, h0))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3, 3\).*proj_size.*"
                                         r"got \(2, 3, 5\)"):
        layer(x, (c0, c0))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3\).*unbatched"):
        layer(deepgrad.randn(6, IN), (h0, c0))
    with pytest.raises(TypeError, match="tuple"):
        layer(x, h0)


def test_error_inside_a_model_names_the_layer_path() -> None:
    model = nn.Sequential(nn.Linear(3, 7), nn.LSTM(IN, HID))
    with pytest.raises(ValueError, match=r"(?s)LSTM\(4, 5\).*input_size=4.*got input of shape "
                                         r"\(2, 3, 7\).*raised in layer '1'"):
        model(deepgrad.randn(2, 3, 3))


def test_dtype_mismatch_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="dtype"):
        nn.GRU(IN, HID)(deepgrad.randn(2, 3, IN, dtype=deepgrad.float64))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(IN, HID, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(IN, HID, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(IN, HID, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(IN, 0)
    with pytest.raises(ValueError, match="num_layers"):
        nn.LSTM(IN, HID, num_layers=0)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(IN, HID, proj_size=HID)
    with pytest.raises(ValueError, match="at least one step"):
        nn.RNN(IN, HID)(deepgrad.randn(0, 2, IN))
    assert issubclass(RNNShapeError, ValueError) and issubclass(RNNShapeError, RuntimeError)
