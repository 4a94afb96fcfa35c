"""torch's composite top-level functions and aliases (``ops/functions.py``): the same call on
torch and on deepgrad gives the same values; differentiable ones also pass float64
gradcheck and match torch's gradients."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
RNG = np.random.default_rng(0)


@functools.cache
def _a(*shape: int) -> np.ndarray:
    """A fixed random array per shape: both libraries see the same values."""
    return np.random.default_rng(sum(shape) * 7 + len(shape)).standard_normal(shape).astype(
        np.float32)


A, B, V3 = _a(3, 4), RNG.standard_normal((3, 4)).astype(np.float32), _a(4, 3)
SQ = _a(3, 3) + 3 * np.eye(3, dtype=np.float32)

# name -> a function of the library module (torch or deepgrad), on fixed arrays
VALUES: dict[str, Any] = {
    "absolute": lambda t: t.absolute(t.tensor(A)),
    "multiply_divide_subtract": lambda t: t.subtract(t.divide(t.multiply(t.tensor(A), 2.0),
                                                              3.0), t.tensor(B)),
    "negative_positive_true_divide": lambda t: t.true_divide(t.negative(t.positive(
        t.tensor(A))), 2.0),
    "clamp_min_max": lambda t: t.clamp_max(t.clamp_min(t.tensor(A), -0.5), 0.5),
    "swapdims_moveaxis": lambda t: t.moveaxis(t.swapdims(t.tensor(_a(2, 3, 4)), 0, 2), 0, 1),
    "sgn": lambda t: t.sgn(t.tensor(A)),
    "broadcast_shapes": lambda t: tuple(t.broadcast_shapes((3, 1), (1, 4), (4,))),
    "broadcast_to": lambda t: t.broadcast_to(t.tensor(A[:1]), (3, 4)),
    "broadcast_tensors": lambda t: t.broadcast_tensors(t.tensor(A[:, :1]), t.tensor(B[:1])),
    "atleast": lambda t: [t.atleast_1d(t.tensor(1.0)), t.atleast_2d(t.tensor([1.0, 2.0])),
                          t.atleast_3d(t.tensor(A))],
    "stacks": lambda t: [t.hstack([t.tensor(A), t.tensor(B)]), t.vstack([t.tensor(A),
                         t.tensor(B)]), t.dstack([t.tensor(A), t.tensor(B)]),
                         t.column_stack([t.tensor(A[:, 0]), t.tensor(B)])],
    "tile_ravel_rot90": lambda t: [t.tile(t.tensor(A), (2, 1, 2)), t.ravel(t.tensor(A)),
                                   t.rot90(t.tensor(A)), t.rot90(t.tensor(A), 2),
                                   t.rot90(t.tensor(A), -1, (1, 0))],
    "splits": lambda t: [*t.tensor_split(t.tensor(_a(7, 2)), 3),
                         *t.tensor_split(t.tensor(_a(7, 2)), [1, 5]),
                         *t.hsplit(t.tensor(A), 2), *t.vsplit(t.tensor(_a(4, 2)), [1, 3])],
    "take": lambda t: t.take(t.tensor(A), t.tensor([[0, 5], [11, 3]])),
    "repeat_interleave": lambda t: [t.repeat_interleave(t.tensor(A), 2),
                                    t.repeat_interleave(t.tensor(A), t.tensor([1, 0, 2]), 0),
                                    t.repeat_interleave(t.tensor([2, 1, 3]))],
    "diff": lambda t: [t.diff(t.tensor(A)), t.diff(t.tensor(A), n=2, dim=0),
                       t.diff(t.tensor(A), prepend=t.tensor(B[:, :1]))],
    "cdist_dist": lambda t: [t.cdist(t.tensor(A), t.tensor(B)),
                             t.cdist(t.tensor(A), t.tensor(A), p=1.0),
                             t.dist(t.tensor(A), t.tensor(B)), t.dist(t.tensor(A),
                                                                     t.tensor(B), 3)],
    "fused": lambda t: [t.addcmul(t.tensor(A), t.tensor(B), t.tensor(A), value=0.5),
                        t.addcdiv(t.tensor(A), t.tensor(B), t.tensor(A) + 3, value=2),
                        t.baddbmm(t.tensor(_a(2, 3, 3)), t.tensor(_a(2, 3, 4)),
                                  t.tensor(_a(2, 4, 3)), beta=0.5, alpha=2),
                        t.addbmm(t.tensor(SQ), t.tensor(_a(2, 3, 4)), t.tensor(_a(2, 4, 3))),
                        t.addmv(t.tensor(A[:, 0]), t.tensor(A), t.tensor(B[0])),
                        t.addr(t.tensor(A), t.tensor(A[:, 0]), t.tensor(B[0]))],
    "diagonals": lambda t: [t.diagonal(t.tensor(A)), t.diagonal(t.tensor(A), 1),
                            t.diagonal(t.tensor(_a(2, 3, 4)), -1, 1, 2),
                            t.diag_embed(t.tensor(A)), t.diag_embed(t.tensor(A), 1),
                            t.diag_embed(t.tensor(A), -2, 0, 2), t.diagflat(t.tensor(A[0])),
                            t.tril_indices(3, 4, 1), t.triu_indices(4, 3, -1)],
    "nan": lambda t: [t.nan_to_num(t.tensor([np.nan, np.inf, -np.inf, 1.0])),
                      t.nan_to_num(t.tensor([np.nan, np.inf, -np.inf]), 1.0, 2.0, -2.0),
                      t.nansum(t.tensor([[1.0, np.nan], [2.0, 3.0]]), 1),
                      t.nanmean(t.tensor([[1.0, np.nan], [2.0, 3.0]]))],
    "median_quantile": lambda t: [t.median(t.tensor(A)), *t.median(t.tensor(A), 1),
                                  t.quantile(t.tensor(A), 0.3),
                                  t.quantile(t.tensor(A), t.tensor([0.1, 0.5, 0.9]), dim=1),
                                  t.quantile(t.tensor(A), 0.25, dim=0, keepdim=True),
                                  t.quantile(t.tensor(A), 0.4, interpolation="midpoint"),
                                  t.quantile(t.tensor(A), 0.4, 1, interpolation="lower")],
    "maths": lambda t: [t.logit(t.tensor(np.abs(A) / 4)), t.logit(t.tensor(np.abs(A)), 1e-3),
                        t.logaddexp(t.tensor(A * 50), t.tensor(B * 50)),
                        t.logaddexp2(t.tensor(A), t.tensor(B)),
                        t.xlogy(t.tensor([0.0, 2.0, 3.0]), t.tensor([0.0, 3.0, 0.5])),
                        t.heaviside(t.tensor([-1.0, 0.0, 2.0]), t.tensor([0.5])),
                        t.fmod(t.tensor(A * 5), 1.5), t.fmax(t.tensor([1.0, np.nan, 2.0]),
                                                             t.tensor([np.nan, 3.0, 1.0])),
                        t.fmin(t.tensor([1.0, np.nan, 2.0]), t.tensor([np.nan, 3.0, 1.0])),
                        t.deg2rad(t.tensor(A)), t.rad2deg(t.tensor(A)),
                        t.sinc(t.tensor([0.0, 0.5, -1.3])), t.signbit(t.tensor([-0.0, 1.0])),
                        t.erfc(t.tensor(A)), t.logspace(0, 2, 5), t.logspace(0, 3, 4, base=2),
                        t.trapezoid(t.tensor(A)), t.trapezoid(t.tensor(A), dx=0.5),
                        t.trapz(t.tensor(A), t.tensor(np.cumsum(np.abs(B), 1)))],
    "searching": lambda t: [t.isin(t.tensor([1, 2, 3, 4]), t.tensor([2, 4])),
                            t.bucketize(t.tensor([0.1, 2.5, 3.0]), t.tensor([1.0, 2.0, 3.0])),
                            t.bucketize(t.tensor([0.1, 2.5, 3.0]), t.tensor([1.0, 2.0, 3.0]),
                                        right=True),
                            t.searchsorted(t.tensor([[1.0, 3.0], [2.0, 4.0]]),
                                           t.tensor([[2.0], [5.0]])),
                            t.bincount(t.tensor([0, 2, 2, 5])),
                            t.bincount(t.tensor([0, 2, 2]), t.tensor([0.5, 1.0, 2.0]), 4),
                            *t.cummax(t.tensor([[1.0, 3.0, 2.0, 3.0, 5.0]]), 1),
                            *t.cummin(t.tensor(A), 0)],
    "products": lambda t: [t.cross(t.tensor(V3), t.tensor(V3[::-1].copy()), dim=1),
                           t.tensordot(t.tensor(_a(2, 3, 4)), t.tensor(_a(3, 4, 5))),
                           t.tensordot(t.tensor(A), t.tensor(V3), ([1], [0])),
                           t.inner(t.tensor(A), t.tensor(B)),
                           t.kron(t.tensor(A[:2, :2]), t.tensor(B[:2, :3])),
                           t.det(t.tensor(SQ)), t.inverse(t.tensor(SQ)),
                           *t.slogdet(t.tensor(SQ)), t.logdet(t.tensor(SQ)),
                           t.matrix_power(t.tensor(SQ), 3), t.matrix_power(t.tensor(SQ), 0),
                           t.chain_matmul(t.tensor(A), t.tensor(V3), t.tensor(SQ)),
                           t.block_diag(t.tensor(A[:2, :2]), t.tensor([7.0, 8.0]),
                                        t.tensor(SQ)),
                           t.cartesian_prod(t.tensor([1, 2]), t.tensor([3, 4, 5])),
                           t.msort(t.tensor(A))],
    "statistics": lambda t: [*t.var_mean(t.tensor(A), 1), *t.std_mean(t.tensor(A),
                                                                       correction=0),
                             t.cov(t.tensor(A)), t.corrcoef(t.tensor(A))],
    "index_writes": lambda t: [*t.unravel_index(t.tensor([4, 7]), (3, 4)),
                               t.index_add(t.tensor(A), 0, t.tensor([2, 0]), t.tensor(B[:2]),
                                           alpha=2),
                               t.index_copy(t.tensor(A), 1, t.tensor([3, 1]),
                                            t.tensor(B[:, :2])),
                               t.index_fill(t.tensor(A), 1, t.tensor([0, 2]), -1.0)],
    "predicates": lambda t: [t.isneginf(t.tensor([-np.inf, 1.0])),
                             t.isposinf(t.tensor([np.inf, 1.0])), t.isreal(t.tensor(A)),
                             t.is_floating_point(t.tensor(A)), t.is_nonzero(t.tensor([2.0])),
                             t.gcd(t.tensor([12, 18]), t.tensor([8, 27])),
                             t.lcm(t.tensor([4, 6]), t.tensor([6, 4])),
                             t.ldexp(t.tensor([1.0, 3.0]), t.tensor([2, 3]))],
}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy())
    return value


def _assert_same(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert ours.shape == theirs.shape, (where, ours.shape, theirs.shape)
        assert ours.dtype == theirs.dtype, (where, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-4, err_msg=where)
    else:
        assert ours == theirs, (where, ours, theirs)


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name", list(VALUES))
def test_same_values_as_torch(name: str) -> None:
    _assert_same(_plain(VALUES[name](deepgrad)), _plain(VALUES[name](torch)), name)


GRADIENTS: dict[str, tuple[Any, list[Any]]] = {
    "diff": (lambda t, x: t.diff(x, n=2, dim=0), [(4, 3)]),
    "cdist_with_zero_distances": (lambda t, x: t.cdist(x, x), [(4, 3)]),
    "cdist_p1": (lambda t, x, y: t.cdist(x, y, p=1.0), [(4, 3), (2, 3)]),
    "addcmul": (lambda t, x, y, z: t.addcdiv(t.addcmul(x, y, z, value=0.5), y, z + 3),
                [(3, 4), (3, 4), (3, 4)]),
    "baddbmm": (lambda t, x, y, z: t.baddbmm(x, y, z, beta=0.5, alpha=2),
                [(2, 3, 3), (2, 3, 4), (2, 4, 3)]),
    "diagonal_diag_embed": (lambda t, x: t.diag_embed(t.diagonal(x, 1), -1), [(3, 4)]),
    "median": (lambda t, x: t.median(x, 1).values, [(3, 5)]),
    "quantile": (lambda t, x: t.quantile(x, t.tensor([0.2, 0.7], dtype=x.dtype), dim=1),
                 [(3, 5)]),
    "logaddexp": (lambda t, x, y: t.logaddexp(x, y), [(3, 4), (3, 4)]),
    "kron_tensordot": (lambda t, x, y: t.tensordot(t.kron(x, y), t.kron(y, x), ([1], [0])),
                       [(2, 2), (2, 2)]),
    "tile_rot90_stack": (lambda t, x, y: t.vstack([t.rot90(t.tile(x, (2, 1))), y]),
                         [(2, 3), (1, 4)]),
    "repeat_interleave": (lambda t, x: t.repeat_interleave(x, 3, dim=1), [(2, 3)]),
    "index_add_copy_fill": (lambda t, x, y: t.index_fill(t.index_copy(t.index_add(
        x, 0, t.tensor([2, 0]), y), 1, t.tensor([1]), x[:, :1] * 2), 1, t.tensor([3]), 0.5),
        [(3, 4), (2, 4)]),
    "sinc_fmod_logit": (lambda t, x: t.sinc(x) + t.fmod(x, 0.7) + t.logit(t.sigmoid(x)),
                        [(3, 4)]),
    "cummax": (lambda t, x: t.cummax(x, 1).values, [(3, 5)]),
    "cov_corrcoef": (lambda t, x: t.cov(x) + t.corrcoef(x), [(3, 6)]),
}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradients_match_torch(name: str) -> None:
    fn, shapes = GRADIENTS[name]
    check_op(lambda *xs: fn(deepgrad, *xs), shapes, lambda *xs: fn(torch, *xs))


METHODS: dict[str, Any] = {
    "method_forms": lambda t, x, y: [x.diff(), x.median(1).values, x.clamp_min(0.1),
                                     x.addcmul(y, x, value=2), x.rot90(), x.tile((2,)),
                                     x.cummax(0).values, x.kron(y), x.diagonal(), x.ravel(),
                                     x.logaddexp(y), x.nansum(), x.quantile(0.5, dim=1),
                                     x.repeat_interleave(2, dim=0), x.index_fill(1, t.tensor(
                                         [0]), 3.0), x.fmod(0.3), x.sgn(), x.absolute()],
    "in_place_forms": lambda t, x, y: [x.clone().clamp_min_(0.1), x.clone().clamp_max_(0.2),
                                       x.clone().index_add_(0, t.tensor([1, 0]), y[:2]),
                                       x.clone().nan_to_num_(), x.clone().abs().logit_(1e-3),
                                       x.clone().fmod_(0.3), x.clone().deg2rad_(),
                                       x.clone().negative_(), x.clone().sgn_(),
                                       x.clone().addr_(x[:, 0], y[0], beta=0.5),
                                       x.clone().index_copy_(1, t.tensor([2]), y[:, :1])],
}


@pytest.mark.parametrize("name", list(METHODS))
def test_method_forms_as_torch(name: str) -> None:
    def run(t: Any) -> Any:
        return METHODS[name](t, t.tensor(A), t.tensor(B))
    _assert_same(_plain(run(deepgrad)), _plain(run(torch)), name)


def test_in_place_form_keeps_the_graph_as_torch() -> None:
    grads = []
    for t in (deepgrad, torch):
        x = t.tensor(A, requires_grad=True)
        y = x * 2
        y.clamp_min_(0.0).index_add_(0, t.tensor([1]), x[:1])
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    with pytest.raises(RuntimeError, match="leaf"):
        deepgrad.tensor(A, requires_grad=True).clamp_min_(0.0)
