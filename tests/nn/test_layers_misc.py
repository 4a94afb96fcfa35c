"""LocalResponseNorm, Bilinear, MaxUnpool, AlphaDropout, gumbel_softmax and the
``*_with_indices`` names against torch (values and gradients), and their statistics."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
TF = torch.nn.functional


@pytest.mark.parametrize("shape", [(2, 7, 3, 4), (2, 6, 5)])
@pytest.mark.parametrize("size", [2, 5])
def test_local_response_norm(shape: tuple[int, ...], size: int) -> None:
    check_op(lambda x: F.local_response_norm(x, size, alpha=0.1, beta=0.6, k=2.0), [shape],
             lambda x: TF.local_response_norm(x, size, alpha=0.1, beta=0.6, k=2.0))
    assert repr(nn.LocalResponseNorm(size)) == repr(torch.nn.LocalResponseNorm(size))


def test_bilinear() -> None:
    check_op(F.bilinear, [(4, 3), (4, 5), (2, 3, 5), (2,)], TF.bilinear)
    check_op(lambda a, b, w: F.bilinear(a, b, w), [(2, 4, 3), (2, 4, 5), (2, 3, 5)],
             lambda a, b, w: TF.bilinear(a, b, w))
    ours, theirs = nn.Bilinear(3, 5, 2), torch.nn.Bilinear(3, 5, 2)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert float(ours.weight.abs().max()) <= 1 / np.sqrt(3)


def test_max_unpool_inverts_max_pool_as_torch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 8)).astype(np.float32)
    pooled_d, idx_d = F.max_pool2d_with_indices(deepgrad.tensor(x), 2)
    pooled_t, idx_t = TF.max_pool2d_with_indices(torch.tensor(x), 2)
    assert idx_d.tolist() == idx_t.tolist()
    check_op(lambda p: F.max_unpool2d(p, deepgrad.tensor(idx_t.numpy()), 2),
             [pooled_t.numpy().astype(np.float64)],
             lambda p: TF.max_unpool2d(p, idx_t, 2))
    out = nn.MaxUnpool2d(2)(pooled_d, idx_d, output_size=(7, 9))
    assert tuple(out.shape) == tuple(torch.nn.MaxUnpool2d(2)(pooled_t, idx_t,
                                                             output_size=(7, 9)).shape)
    seq = x[:, :, 0]
    p1, i1 = F.max_pool1d_with_indices(deepgrad.tensor(seq), 2)
    np.testing.assert_array_equal(F.max_unpool1d(p1, i1, 2).numpy(),
                                  TF.max_unpool1d(*TF.max_pool1d_with_indices(
                                      torch.tensor(seq), 2), 2).numpy())
    _, ai = F.adaptive_max_pool2d_with_indices(deepgrad.tensor(x), 3)
    assert ai.tolist() == TF.adaptive_max_pool2d_with_indices(torch.tensor(x), 3)[1].tolist()


def test_alpha_dropout_keeps_selu_statistics() -> None:
    deepgrad.manual_seed(0)
    x = deepgrad.randn(200_000)
    out = F.alpha_dropout(x, 0.2, training=True)
    assert abs(float(out.mean())) < 0.01 and abs(float(out.var()) - 1.0) < 0.02
    assert F.alpha_dropout(x, 0.2, training=False) is x
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    dropped = np.isclose(out.numpy(), 1.7580993408473766 * a * (0.2 - 1))
    assert 0.19 < dropped.mean() < 0.21  # the dropped share sits at one value
    layer = nn.AlphaDropout(0.3)
    assert repr(layer) == repr(torch.nn.AlphaDropout(0.3))
    layer.eval()
    assert layer(x) is x


def test_gumbel_softmax() -> None:
    deepgrad.manual_seed(0)
    logits = deepgrad.tensor(np.log([[0.7, 0.2, 0.1]] * 20000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-5)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1.0} and (values.sum(-1) == 1).all()
    np.testing.assert_allclose(values.mean(0), [0.7, 0.2, 0.1], atol=0.015)  # Gumbel-max
    (hard * deepgrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0  # straight through
