"""Report 001's L2 regularisation: ``loss + lam * sum(W**2)`` built from deepgrad ops.

Its gradient is ``grad(loss) + 2 * lam * W``, which is exactly what SGD's
``weight_decay = 2 * lam`` adds, so the two roads give the same parameters.
"""

from __future__ import annotations

import numpy as np
from optim_cases import dg_loss, dg_params, problem_arrays

import deepgrad as dg
from deepgrad import optim

LAM = 1e-3


def _l2(params: list[dg.Tensor]) -> dg.Tensor:
    total = (params[0] ** 2).sum()
    for w in params[1:]:
        total = total + (w ** 2).sum()
    return total


def test_l2_term_reaches_the_gradients() -> None:
    arrays = problem_arrays()
    plain, reg = dg_params(arrays), dg_params(arrays)
    dg_loss(plain, arrays).backward()
    (dg_loss(reg, arrays) + LAM * _l2(reg)).backward()
    for p, r in zip(plain, reg, strict=True):
        assert r.grad is not None and p.grad is not None
        np.testing.assert_allclose(r.grad.data.numpy() - p.grad.data.numpy(),
                                   2 * LAM * r.data.numpy(),
                                   rtol=1e-10, atol=1e-15)
        assert np.abs(r.grad.data.numpy() - p.grad.data.numpy()).max() > 0


def test_l2_in_the_loss_equals_sgd_weight_decay() -> None:
    arrays = problem_arrays()
    via_loss, via_decay = dg_params(arrays), dg_params(arrays)
    opt_loss = optim.SGD(via_loss, lr=0.1, momentum=0.9)
    opt_decay = optim.SGD(via_decay, lr=0.1, momentum=0.9, weight_decay=2 * LAM)
    for _ in range(25):
        opt_loss.zero_grad()
        (dg_loss(via_loss, arrays) + LAM * _l2(via_loss)).backward()
        opt_loss.step()
        opt_decay.zero_grad()
        dg_loss(via_decay, arrays).backward()
        opt_decay.step()
    for a, b in zip(via_loss, via_decay, strict=True):
        np.testing.assert_allclose(a.data.numpy(), b.data.numpy(), rtol=1e-12, atol=1e-15)
    start = dg_params(arrays)
    assert not np.allclose(via_loss[0].data.numpy(), start[0].data.numpy())


def test_l2_shrinks_weights_compared_with_no_regularisation() -> None:
    arrays = problem_arrays()
    free, decayed = dg_params(arrays), dg_params(arrays)
    opt_free = optim.SGD(free, lr=0.1)
    opt_decayed = optim.SGD(decayed, lr=0.1)
    for _ in range(25):
        for params, opt, lam in ((free, opt_free, 0.0), (decayed, opt_decayed, 0.05)):
            opt.zero_grad()
            (dg_loss(params, arrays) + lam * _l2(params)).backward()
            opt.step()
    assert _l2(decayed).item() < _l2(free).item()
