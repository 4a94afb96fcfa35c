"""Losses, softmax and log-softmax: float64 gradcheck + float32 torch parity, stability, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import deepgrad
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(7)
TARGET = RNG.integers(0, 5, size=6)                   # (N,) class indices for 5 classes
TARGET_IGNORED = TARGET.copy()
TARGET_IGNORED[[1, 4]] = -100
TARGET_2D = RNG.integers(0, 4, size=(2, 3, 5))        # (N, d1, d2) for 4 classes
TARGET_2D[0, 1, 2] = 3
TARGET_2D[1, 0, 0] = -1                               # a custom ignore_index
WEIGHT = np.array([0.5, 2.0, 1.0, 0.25, 1.5], np.float32)


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1, user_api="blas"):
        yield


def both(name: str, **kw: Any) -> tuple[Any, Any]:
    """``F.name(*args, **kw)`` for deepgrad and torch; float arrays in kw become tensors."""
    def convert(lib: Any) -> dict[str, Any]:
        return {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}

    return (lambda *a: getattr(F, name)(*a, **convert(deepgrad)),
            lambda *a: getattr(tF, name)(*a, **convert(torch)))


# ---- softmax family -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(name: str, dim: int) -> None:
    dg_fn, t_fn = both(name, dim=dim)
    check_op(dg_fn, [(3, 4, 5)], t_fn)


def test_log_softmax_large_logits_finite() -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], np.float32)
    out = F.log_softmax(deepgrad.tensor(x), dim=1)
    np.testing.assert_allclose(out.numpy(), tF.log_softmax(torch.tensor(x), 1).numpy())


# ---- cross-entropy and nll ------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_indices(reduction: str) -> None:
    dg_fn, t_fn = both("cross_entropy", reduction=reduction)
    check_op(dg_fn, [(6, 5)], t_fn, extra=[TARGET])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_weight_ignore_smoothing(reduction: str, smoothing: float) -> None:
    dg_fn, t_fn = both("cross_entropy", weight=WEIGHT, reduction=reduction,
                       label_smoothing=smoothing)
    check_op(dg_fn, [(6, 5)], t_fn, extra=[TARGET_IGNORED])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_targets(reduction: str) -> None:
    """(N, C, d1, d2) logits with (N, d1, d2) targets, a custom ignore_index and smoothing."""
    dg_fn, t_fn = both("cross_entropy", weight=WEIGHT[:4], ignore_index=-1,
                       reduction=reduction, label_smoothing=0.1)
    check_op(dg_fn, [(2, 4, 3, 5)], t_fn, extra=[TARGET_2D])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction: str) -> None:
    """Soft targets (the input's shape) are differentiable too, as in torch."""
    probs = RNG.dirichlet(np.ones(5), size=4)
    dg_fn, t_fn = both("cross_entropy", weight=WEIGHT, reduction=reduction,
                       label_smoothing=0.1)
    check_op(dg_fn, [(4, 5), probs], t_fn)


def test_cross_entropy_unbatched() -> None:
    dg_fn, t_fn = both("cross_entropy")
    check_op(dg_fn, [(5,)], t_fn, extra=[np.array(3)])


def test_cross_entropy_huge_logits_are_finite() -> None:
    x = np.where(RNG.random((6, 5)) < 0.5, 1e4, -1e4).astype(np.float32)
    x[0] = [1e4, -1e4, -1e4, -1e4, -1e4]  # confidently right (target 0 is set below)
    target = TARGET.copy()
    target[0] = 0
    for smoothing in (0.0, 0.1):
        dx = deepgrad.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        loss = F.cross_entropy(dx, deepgrad.tensor(target), label_smoothing=smoothing)
        t_loss = tF.cross_entropy(tx, torch.tensor(target), label_smoothing=smoothing)
        loss.backward()
        t_loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(dx.grad.numpy()).all()
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-6)
        np.testing.assert_allclose(dx.grad.numpy(), tx.grad.numpy(), atol=1e-7)


def test_cross_entropy_keeps_float32() -> None:
    x = deepgrad.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction: str) -> None:
    dg_fn, t_fn = both("nll_loss", weight=WEIGHT, reduction=reduction)
    check_op(dg_fn, [(6, 5)], t_fn, extra=[TARGET_IGNORED])


def test_nll_after_log_softmax_equals_cross_entropy() -> None:
    x, t = deepgrad.randn(6, 5), deepgrad.tensor(TARGET)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, 1), t).item(),
                               F.cross_entropy(x, t).item(), rtol=1e-6)


# ---- pointwise losses -----------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {"delta": 0.7}),
])
def test_regression_losses(name: str, kw: dict, reduction: str) -> None:
    dg_fn, t_fn = both(name, reduction=reduction, **kw)
    check_op(dg_fn, [(4, 3), (4, 3)], t_fn)


def test_mse_loss_broadcast_target() -> None:
    dg_fn, t_fn = both("mse_loss")
    with pytest.warns(UserWarning):  # torch warns about broadcasting; deepgrad broadcasts
        check_op(dg_fn, [(4, 3), (3,)], t_fn)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, WEIGHT[:3]])
def test_binary_cross_entropy(reduction: str, weight: Any) -> None:
    dg_fn, t_fn = both("binary_cross_entropy", weight=weight, reduction=reduction)
    check_op(dg_fn, [(4, 3), (4, 3)], t_fn, low=0.05, high=0.95)


def test_binary_cross_entropy_clamps_log() -> None:
    x = np.array([0.0, 1.0, 0.0, 1.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], np.float32)
    loss = F.binary_cross_entropy(deepgrad.tensor(x), deepgrad.tensor(y), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"weight": WEIGHT[:3], "pos_weight": WEIGHT[2:]}])
def test_binary_cross_entropy_with_logits(reduction: str, kw: dict) -> None:
    dg_fn, t_fn = both("binary_cross_entropy_with_logits", reduction=reduction, **kw)
    check_op(dg_fn, [(4, 3), RNG.random((4, 3))], t_fn)


def test_bce_with_logits_huge_logits_are_finite() -> None:
    x = np.array([1e4, -1e4, 1e4, -1e4], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], np.float32)
    dx = deepgrad.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(dx, deepgrad.tensor(y), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4)
    np.testing.assert_array_equal(dx.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


def test_one_hot() -> None:
    idx = np.array([[0, 2], [1, 4]])
    out = F.one_hot(deepgrad.tensor(idx), num_classes=6)
    np.testing.assert_array_equal(out.numpy(), tF.one_hot(torch.tensor(idx), 6).numpy())
    assert out.dtype == np.int64 and F.one_hot(deepgrad.tensor(idx)).shape == (2, 2, 5)
    with pytest.raises(IndexError, match=r"one_hot: class index 4 is outside .*\[0, 2\]"):
        F.one_hot(deepgrad.tensor(idx), num_classes=3)


# ---- bad input ------------------------------------------------------------------------------

def test_cross_entropy_target_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(4,\) does not match "
                                         r"input shape \(6, 5\): expected class indices of "
                                         r"shape \(6,\)"):
        F.cross_entropy(deepgrad.randn(6, 5), deepgrad.tensor([0, 1, 2, 3]))


@pytest.mark.parametrize("bad", [5, -3])
def test_cross_entropy_class_out_of_range(bad: int) -> None:
    with pytest.raises(IndexError, match=rf"cross_entropy: target contains class index {bad}, "
                                         r"outside the valid range \[0, 4\]"):
        F.cross_entropy(deepgrad.randn(3, 5), deepgrad.tensor([0, bad, 1]))


def test_nll_loss_class_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"nll_loss: target contains class index 10"):
        F.nll_loss(deepgrad.randn(2, 10), deepgrad.tensor([10, 1]))


def test_cross_entropy_float_target_is_a_dtype_error() -> None:
    with pytest.raises(TypeError, match=r"cross_entropy: expected target dtype int64 \(class "
                                        r"indices\), got float32.*target.long\(\)"):
        F.cross_entropy(deepgrad.randn(3, 5), deepgrad.tensor([0.0, 1.0, 2.0]))


def test_loss_bad_settings() -> None:
    x, t = deepgrad.randn(3, 5), deepgrad.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(5,\)"):
        F.cross_entropy(x, t, weight=deepgrad.ones(3))
    with pytest.raises(TypeError, match=r"cross_entropy: input must be a floating point"):
        F.cross_entropy(t, t)
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input "
                                           r"should be between 0 and 1"):
        F.binary_cross_entropy(x, deepgrad.zeros(3, 5))
    with pytest.raises(ValueError, match=r"mse_loss: shapes \(3, 5\) and \(2,\) cannot be"):
        F.mse_loss(x, deepgrad.randn(2))
