"""The indexing, sorting, scan, extra maths and einsum ops: float64 gradcheck and float32 torch
parity (``check_op``), and forward parity of the ones without a gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import check_op, torch_or_skip

torch = torch_or_skip()


def both(name: str) -> tuple[Any, Any]:
    return getattr(deepgrad, name), getattr(torch, name)


INDEX = np.array([[0, 2, 1], [1, 1, 0]])
UNARY = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "erf", "exp2",
         "frac", "log1p", "expm1", "log2", "log10", "reciprocal"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_maths(name: str) -> None:
    ours, theirs = both(name)
    positive = name in ("log1p", "log2", "log10", "reciprocal")
    low, high = (-0.9, 0.9) if name in ("asin", "acos", "atanh") else (-2.0, 2.0)
    check_op(ours, [(3, 4)], theirs, positive=positive, low=low, high=high)


def test_acosh() -> None:
    check_op(deepgrad.acosh, [np.linspace(1.5, 3.0, 6).reshape(2, 3)], torch.acosh)


def test_atan2_and_hypot_broadcast() -> None:
    check_op(deepgrad.atan2, [(3, 4), (4,)], torch.atan2)
    check_op(deepgrad.hypot, [(3, 4), (3, 1)], torch.hypot)


def test_lerp() -> None:
    check_op(lambda a, b: deepgrad.lerp(a, b, 0.3), [(3, 4), (3, 4)],
             lambda a, b: torch.lerp(a, b, 0.3))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim: int) -> None:
    check_op(lambda a, i: a.gather(dim, i), [(3, 3)], extra=[INDEX])  # index smaller in dim 0


def test_scatter_and_scatter_add() -> None:
    check_op(lambda a, s, i: a.scatter(1, i, s), [(2, 3), (2, 3)],
             extra=[np.array([[0, 2, 1], [2, 0, 1]])])
    check_op(lambda a, s, i: a.scatter_add(0, i, s), [(3, 3), (2, 3)], extra=[INDEX])


def test_scatter_in_place_makes_a_one_hot() -> None:
    labels = np.array([2, 0, 1])
    ours = deepgrad.zeros(3, 4).scatter_(1, deepgrad.tensor(labels).unsqueeze(1), 1.0)
    theirs = torch.zeros(3, 4).scatter_(1, torch.tensor(labels).unsqueeze(1), 1.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_0d_index_is_one_element_of_a_1d_tensor() -> None:
    """torch's Transforms tutorial one-hots a label so: ``zeros(10).scatter_(0, tensor(y), 1)``."""
    check_op(lambda a, i: a.gather(0, i), [(5,)], extra=[np.array(3)])
    check_op(lambda a, s, i: a.scatter(0, i, s), [(5,), ()], extra=[np.array(3)])
    check_op(lambda a, s, i: a.scatter_add(0, i, s), [(5,), ()], extra=[np.array(1)])
    for y in (0, 7, 9):
        ours = deepgrad.zeros(10, dtype=deepgrad.float).scatter_(0, deepgrad.tensor(y), value=1)
        theirs = torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for op in ("scatter", "gather"):
        with pytest.raises(RuntimeError, match=rf"{op}\(\): Index tensor must have the same "
                                               r"number of dimensions"):
            if op == "scatter":
                deepgrad.zeros(2, 3).scatter_(0, deepgrad.tensor(1), value=1)
            else:
                deepgrad.zeros(2, 3).gather(0, deepgrad.tensor(1))


def test_index_select_with_repeats() -> None:
    check_op(lambda a, i: a.index_select(1, i), [(3, 4)], extra=[np.array([3, 0, 3, 1])])
    check_op(lambda a, i: deepgrad.index_select(a, 0, i),
             [(3, 4)], lambda a, i: torch.index_select(a, 0, i), extra=[np.array([2, 2])])


def test_take_along_dim_and_masked_select() -> None:
    check_op(lambda a, i: deepgrad.take_along_dim(a, i, 1), [(2, 3)],
             lambda a, i: torch.take_along_dim(a, i, 1), extra=[np.array([[2], [0]])])
    mask = np.array([[True, False, True], [False, True, True]])
    check_op(lambda a, m: a.masked_select(m), [(2, 3)], extra=[mask])


@pytest.mark.parametrize("call", [
    lambda x: x.flip(0), lambda x: x.flip((0, 1)), lambda x: x.roll(1, 1),
    lambda x: x.roll((1, -1), (0, 1)), lambda x: x.roll(2), lambda x: x.tril(),
    lambda x: x.triu(1), lambda x: x.tril(-1), lambda x: x.narrow(1, 1, 2),
    lambda x: x.select(0, 1), lambda x: x.movedim(0, 1), lambda x: x.swapaxes(0, 1),
    lambda x: x.diag(), lambda x: x.diag(1), lambda x: x.fliplr(), lambda x: x.ravel(),
], ids=["flip0", "flip01", "roll", "roll2", "rollflat", "tril", "triu1", "tril-1", "narrow",
        "select", "movedim", "swapaxes", "diag", "diag1", "fliplr", "ravel"])
def test_shape_and_mask_ops(call: Any) -> None:
    check_op(call, [(3, 4)])


def test_diag_of_a_vector_and_unbind() -> None:
    check_op(lambda v: v.diag(-1), [(3,)])
    check_op(lambda a: a.unbind(1), [(2, 3)])


@pytest.mark.parametrize("call", [
    lambda x: x.cumsum(1), lambda x: x.cumsum(0), lambda x: x.prod(1), lambda x: x.prod(),
    lambda x: x.prod(0, keepdim=True), lambda x: x.cumprod(1),
    lambda x: x.sort(1)[0], lambda x: x.sort(0, descending=True)[0],
    lambda x: x.topk(2, 1)[0], lambda x: x.topk(2, 0, largest=False)[0],
    lambda x: x.kthvalue(2, 1)[0],
], ids=["cumsum1", "cumsum0", "prod1", "prod", "prod-keep", "cumprod", "sort", "sort-desc",
        "topk", "topk-smallest", "kthvalue"])
def test_scans_and_sorting(call: Any) -> None:
    check_op(call, [(3, 4)], positive=True)


def test_prod_with_zeros_has_torch_gradient() -> None:
    check_op(lambda a: a.prod(1), [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])],
             gradcheck=False)


def test_sorting_indices_and_unique_match_torch() -> None:
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, 4.0, -1.0, 4.0]], dtype=np.float32)
    d, t = deepgrad.tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(d.argsort(dim=1, stable=True).numpy(),
                                  t.argsort(dim=1, stable=True).numpy())
    np.testing.assert_array_equal(d.sort(dim=1, stable=True)[1].numpy(),
                                  t.sort(dim=1, stable=True)[1].numpy())
    np.testing.assert_array_equal(d.topk(2)[1].numpy(), t.topk(2)[1].numpy())
    values, inverse, counts = deepgrad.unique(d, return_inverse=True, return_counts=True)
    tv, ti, tc = torch.unique(t, return_inverse=True, return_counts=True)
    for a, b in [(values, tv), (inverse, ti), (counts, tc)]:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(deepgrad.nonzero(d > 1).numpy(), torch.nonzero(t > 1).numpy())
    assert int(deepgrad.count_nonzero(d > 1)) == int(torch.count_nonzero(t > 1))


@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]), ("ij->", [(3, 3)]), ("i,j->ij", [(3,), (4,)]),
    ("ij,kj", [(3, 4), (5, 4)]), ("ij,jk->j", [(3, 4), (4, 5)]), ("ij,ij,ij->i", [(2, 3)] * 3),
])
def test_einsum(equation: str, shapes: list[tuple[int, ...]]) -> None:
    check_op(lambda *xs: deepgrad.einsum(equation, *xs), shapes,
             lambda *xs: torch.einsum(equation, *xs))


def test_outer_mv_addmm_trace() -> None:
    check_op(deepgrad.outer, [(3,), (4,)], torch.outer)
    check_op(deepgrad.mv, [(3, 4), (4,)], torch.mv)
    check_op(lambda c, a, b: deepgrad.addmm(c, a, b, beta=0.5, alpha=2.0),
             [(3, 5), (3, 4), (4, 5)], lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0))
    check_op(deepgrad.trace, [(4, 4)], torch.trace)


def test_logical_bitwise_and_isclose() -> None:
    a = np.array([[1, 0, 3], [0, 2, 0]])
    b = np.array([[1, 1, 0], [0, 2, 5]])
    for name in ("logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                 "bitwise_xor"):
        ours, theirs = both(name)
        np.testing.assert_array_equal(ours(deepgrad.tensor(a), deepgrad.tensor(b)).numpy(),
                                      theirs(torch.tensor(a), torch.tensor(b)).numpy(), name)
    d, t = deepgrad.tensor(a) > 0, torch.tensor(a) > 0
    np.testing.assert_array_equal((d & ~d | d ^ d).numpy(), (t & ~t | t ^ t).numpy())
    x = np.array([1.0, 1.0 + 1e-6, 2.0, np.nan])
    np.testing.assert_array_equal(
        deepgrad.isclose(deepgrad.tensor(x), deepgrad.tensor(np.ones(4)), equal_nan=True).numpy(),
        torch.isclose(torch.tensor(x), torch.ones(4, dtype=torch.float64), equal_nan=True).numpy())


def test_softmax_methods() -> None:
    check_op(lambda a: a.softmax(1), [(3, 4)], lambda a: a.softmax(1))
    check_op(lambda a: a.log_softmax(-1), [(3, 4)], lambda a: a.log_softmax(-1))
    check_op(lambda a: deepgrad.softmax(a, 0), [(3, 4)], lambda a: torch.softmax(a, 0))


def test_typed_constructors_and_dtypes() -> None:
    for name in ("LongTensor", "FloatTensor", "DoubleTensor", "IntTensor", "BoolTensor"):
        ours, theirs = getattr(deepgrad, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert isinstance(ours, getattr(deepgrad, name))
    assert tuple(deepgrad.FloatTensor(2, 3).shape) == tuple(torch.FloatTensor(2, 3).shape)
    assert not isinstance(deepgrad.ones(2), deepgrad.LongTensor)
    for name in ("int16", "int8", "float16", "half", "short"):
        assert str(getattr(deepgrad, name)) == str(getattr(torch, name)).replace("torch.", "")


def test_errors_name_the_op() -> None:
    x = deepgrad.ones(2, 3)
    with pytest.raises(RuntimeError, match="gather"):
        x.gather(1, deepgrad.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="narrow"):
        x.narrow(1, 2, 5)
    with pytest.raises(RuntimeError, match="einsum"):
        deepgrad.einsum("ij,jk->ik", x)
    with pytest.raises(RuntimeError, match="topk"):
        x.topk(4)


def test_linalg_inv_det_solve_and_norms() -> None:
    spd = [np.eye(3) * 3 + np.random.default_rng(3).uniform(-0.5, 0.5, (3, 3))]
    check_op(deepgrad.linalg.inv, spd, torch.linalg.inv)
    check_op(deepgrad.linalg.det, spd, torch.linalg.det)
    check_op(deepgrad.linalg.solve, spd + [(3, 2)], torch.linalg.solve)
    check_op(deepgrad.linalg.solve, spd + [(3,)], torch.linalg.solve)
    check_op(lambda a: deepgrad.linalg.norm(a), [(3, 4)], lambda a: torch.linalg.norm(a))
    check_op(lambda a: deepgrad.linalg.vector_norm(a, 1, dim=1), [(3, 4)],
             lambda a: torch.linalg.vector_norm(a, 1, dim=1))


def test_linalg_forward_only_ops_refuse_a_graph() -> None:
    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    u, s, vh = deepgrad.linalg.svd(deepgrad.tensor(a), full_matrices=False)
    np.testing.assert_allclose(s.numpy(), torch.linalg.svdvals(torch.tensor(a)).numpy(),
                               rtol=1e-5)
    with pytest.raises(NotImplementedError, match="svd"):
        deepgrad.linalg.svd(deepgrad.tensor(a, requires_grad=True))


def test_linalg_cross() -> None:
    check_op(lambda a, b: deepgrad.linalg.cross(a, b), [(4, 3), (4, 3)],
             lambda a, b: torch.linalg.cross(a, b))
