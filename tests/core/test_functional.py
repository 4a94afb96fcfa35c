"""``deepgrad.nn.functional``: the names torch code calls, dropout statistics, embedding."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional

TORCH_NAMES = [
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "softplus", "sigmoid", "tanh",
    "hardtanh", "softmax", "log_softmax", "linear", "dropout", "dropout2d", "conv2d",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "cross_entropy",
    "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "one_hot", "pad", "embedding", "batch_norm",
    "layer_norm",
]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_torch_names_are_exported(name: str) -> None:
    assert callable(getattr(F, name)) and hasattr(tF, name)
    assert name in F.__all__


def test_flatten_and_activations_through_F() -> None:
    check_op(lambda x: F.flatten(F.relu6(F.leaky_relu(x, 0.1) * 3), 1), [(2, 3, 4)],
             lambda x: torch.flatten(tF.relu6(tF.leaky_relu(x, 0.1) * 3), 1))
    check_op(lambda x, w, b: F.linear(F.hardtanh(x), w, b), [(4, 3), (2, 3), (2,)],
             lambda x, w, b: tF.linear(tF.hardtanh(x), w, b))


def test_pad_through_F() -> None:
    check_op(lambda x: F.pad(x, (1, 2, 0, 1)), [(2, 3, 4)], lambda x: tF.pad(x, (1, 2, 0, 1)))


# ---- dropout --------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p: float) -> None:
    x = deepgrad.ones(400, 500)
    out = F.dropout(x, p).numpy()
    dropped = np.mean(out == 0)
    assert abs(dropped - p) < 0.01                  # mask fraction ~ p
    assert abs(out.mean() - 1.0) < 0.02             # expectation preserved by 1/(1-p)
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_same_seed_same_mask() -> None:
    x = deepgrad.randn(50, 60)
    deepgrad.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    deepgrad.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_gradient_is_mask_times_scale() -> None:
    x = deepgrad.randn(30, 40, requires_grad=True)
    out = F.dropout(x, 0.25)
    out.backward(deepgrad.ones(30, 40))
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_dropout_identity_and_all_zero_cases() -> None:
    x = deepgrad.randn(5, 6, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    out.sum().backward()
    assert not out.detach().numpy().any() and not x.grad.numpy().any()
    assert np.isfinite(x.grad.numpy()).all()


def test_dropout_uses_the_global_generator() -> None:
    state = deepgrad.get_rng_state()
    a = F.dropout(deepgrad.ones(20, 20), 0.5).numpy()
    deepgrad.set_rng_state(state)
    b = F.dropout(deepgrad.ones(20, 20), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout2d_zeroes_whole_channels() -> None:
    x = deepgrad.ones(8, 16, 5, 5)
    out = F.dropout2d(x, 0.5).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.2 < np.mean(per_channel[..., 0] == 0) < 0.8


def test_dropout_bad_p() -> None:
    with pytest.raises(ValueError, match=r"dropout: dropout probability has to be between 0 "
                                         r"and 1, got p=1.5"):
        F.dropout(deepgrad.ones(3), 1.5)


# ---- embedding ------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True}])
def test_embedding(kw: dict) -> None:
    ids = np.array([[0, 2, 1, 2], [3, 3, 3, 0]])
    # padding_idx and scale_grad_by_freq change the gradient on purpose: parity only.
    check_op(lambda w, i: F.embedding(i, w, **kw), [(5, 3)],
             lambda w, i: tF.embedding(i, w, **kw), extra=[ids],
             gradcheck=not kw)


def test_embedding_max_norm_renormalises_rows_in_place() -> None:
    w = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32) * 3
    ids = np.array([0, 2])
    dw, tw = deepgrad.tensor(w), torch.tensor(w)
    out = F.embedding(deepgrad.tensor(ids), dw, max_norm=1.0)
    t_out = tF.embedding(torch.tensor(ids), tw, max_norm=1.0)
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-5)
    np.testing.assert_allclose(dw.numpy(), tw.numpy(), rtol=1e-5)


def test_embedding_bad_index() -> None:
    with pytest.raises(IndexError, match=r"embedding: index 7 is out of range .* 5 rows"):
        F.embedding(deepgrad.tensor([1, 7]), deepgrad.randn(5, 2))
