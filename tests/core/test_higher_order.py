"""Higher-order gradients: every op family's backward can itself be differentiated.

Each case is one function written against a library namespace (``L.T`` the top-level
module, ``L.F`` its functional), run on deepgrad and on torch with the same float64
numbers. Two proofs per case:

- torch parity of the second derivatives: ``g = grad(f(x), x, v, create_graph=True)``,
  then ``grad(<g, u>, (x, v))``, both against torch;
- ``gradgradcheck``: the backward of the backward against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

import deepgrad as dg
import deepgrad.nn.functional as dgF
from deepgrad.autograd import Function as DgFunction
from deepgrad.autograd import once_differentiable as dg_once

DG = SimpleNamespace(T=dg, F=dgF, name="deepgrad")
TORCH = SimpleNamespace(T=torch, F=torch.nn.functional, name="torch")


@dataclass
class Case:
    name: str
    fn: Callable[..., Any]
    inputs: tuple[tuple[tuple[int, ...], str], ...]  # (shape, kind) per differentiable input
    torch_parity: bool = True


def _values(shape: tuple[int, ...], kind: str, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal(shape)
    if kind == "pos":
        return np.abs(x) + 0.5
    if kind == "unit":
        return np.tanh(x) * 0.8
    if kind == "away":  # away from a kink at 0
        return np.sign(x) * (np.abs(x) + 0.3)
    if kind == "conditioned":  # square, far from singular
        return x * 0.3 + 2 * np.eye(shape[-1])
    if kind == "with_zero":  # one exact zero: products must not divide by it
        x.reshape(-1)[5] = 0.0
        return x
    if kind == "zero":
        return np.zeros(shape)
    if kind == "prob":
        return 1 / (1 + np.exp(-x))
    return x


def _ids(L: Any, values: list[int]) -> Any:
    return L.T.tensor(values)


S = ((3, 4), "any")
CASES = [
    # elementwise
    Case("add_broadcast", lambda L, x, y: x + y, (S, ((4,), "any"))),
    Case("sub_broadcast", lambda L, x, y: x - y, (S, ((3, 1), "any"))),
    Case("mul", lambda L, x, y: x * y, (S, S)),
    Case("mul_views_of_one_tensor", lambda L, x: x[:, 0] * x[:, 1] * x[:, 2:].sum(1), (S,)),
    Case("div", lambda L, x, y: x / y, (S, ((3, 4), "pos"))),
    Case("pow_tensor", lambda L, x, y: x ** y, (((5,), "pos"), ((5,), "any"))),
    Case("pow_scalars", lambda L, x: x ** 3 + x ** 2 + x ** 0.5, (((5,), "pos"),)),
    Case("rpow", lambda L, x: 2.0 ** x, (S,)),
    Case("neg_exp", lambda L, x: (-x).exp(), (S,)),
    Case("log_sqrt", lambda L, x: x.log() + x.sqrt(), (((5,), "pos"),)),
    Case("abs", lambda L, x: x.abs() * x, (((5,), "away"),)),
    Case("sin_cos", lambda L, x: x.sin() * x.cos(), (S,)),
    Case("clamp", lambda L, x: (x * x).clamp(max=1.0) * x, (((6,), "away"),)),
    Case("maximum_minimum", lambda L, x, y: L.T.maximum(x, y) * L.T.minimum(x, y), (S, S)),
    Case("where", lambda L, x, y: L.T.where(x > 0, x * x, y.exp()), (S, S)),
    Case("math_unary", lambda L, x: (x.tan() + x.asin() + x.atan() + x.sinh() + x.cosh()
                                     + L.T.erf(x) + x.expm1()), (((5,), "unit"),)),
    Case("log1p_reciprocal", lambda L, x: x.log1p() * x.reciprocal(), (((5,), "pos"),)),
    Case("atan2", lambda L, x, y: L.T.atan2(x, y), (S, ((3, 4), "pos"))),
    # activations
    Case("relu", lambda L, x: L.F.relu(x) * x, (((6,), "away"),)),
    Case("leaky_relu", lambda L, x: L.F.leaky_relu(x, 0.1) * x, (((6,), "away"),)),
    Case("elu_selu", lambda L, x: L.F.elu(x) + L.F.selu(x), (((6,), "away"),)),
    Case("sigmoid_tanh", lambda L, x: L.T.sigmoid(x) * L.T.tanh(x), (S,)),
    Case("softplus", lambda L, x: L.F.softplus(x, beta=2.0), (S,)),
    Case("gelu", lambda L, x: L.F.gelu(x) + L.F.gelu(x, approximate="tanh"), (S,)),
    Case("hardtanh_relu6", lambda L, x: (L.F.hardtanh(x) + L.F.relu6(4 * x)) * x,
         (((6,), "away"),)),
    # reductions
    Case("sum_mean", lambda L, x: x * x.sum(1, keepdim=True) + x.mean(0), (S,)),
    Case("var_std", lambda L, x: x.var(1) + x.std(0).sum(), (S,)),
    Case("amax_max", lambda L, x: L.T.amax(x, 1) * x.max(0).values.sum(), (S,)),
    Case("logsumexp", lambda L, x: L.T.logsumexp(x, 1), (S,)),
    Case("softmax", lambda L, x: L.F.softmax(x, 1) * x, (S,)),
    Case("log_softmax", lambda L, x: L.F.log_softmax(x, 0) * x, (S,)),
    # shape ops
    Case("reshape_permute", lambda L, x: (x * x).reshape(2, 6).t().permute(1, 0)
         .reshape(-1), (S,)),
    Case("expand_repeat", lambda L, x: x[:, :1].expand(3, 4) * x.repeat(1, 2)[:, 2:6] * x,
         (S,)),
    Case("getitem", lambda L, x: x[1:, ::2] * x[[0, 2], 1:3] * x[1, 0], (S,)),
    Case("getitem_repeated_index", lambda L, x: x[[0, 2, 2]] * x[[1, 1, 0]], (S,)),
    Case("cat_stack", lambda L, x, y: L.T.cat([x * y, x], 0) * L.T.stack([y, y], 0)
         .reshape(6, 4), (S, S)),
    Case("pad", lambda L, x: L.F.pad(x * x, (1, 2, 0, 1)), (S,)),
    Case("flip_roll_tril", lambda L, x: x.flip(0) * x.roll(1, 1) * x.tril(), (S,)),
    Case("gather_index_select", lambda L, x: x.gather(1, _ids(L, [[0, 0], [3, 1], [2, 2]]))
         * x.index_select(1, _ids(L, [1, 3])), (S,)),
    Case("scatter", lambda L, x, y: x.scatter(1, _ids(L, [[0], [3], [1]]), y[:, :1]) * x,
         (S, S)),
    Case("cumsum", lambda L, x: x.cumsum(1) * x, (S,)),
    Case("prod_cumprod", lambda L, x: x.prod(1, keepdim=True) * x.cumprod(0) + x.prod(),
         (((3, 4), "with_zero"),)),
    Case("in_place_on_a_view", lambda L, x, y: _write_through_view(x, y), (S, S)),
    # products
    Case("matmul_2d", lambda L, x, y: x @ y.t() @ x, (S, S)),
    Case("matmul_batched", lambda L, x, y: L.T.matmul(x, y) * x.sum(), (((2, 3, 4), "any"),
                                                                    ((4, 2), "any"))),
    Case("matmul_vectors", lambda L, x, y: (x @ y) * (y @ x.reshape(4, 1)),
         (((4,), "any"), ((4, 4), "any"))),
    Case("linear", lambda L, x, w, b: L.T.tanh(L.F.linear(x, w, b)),
         (S, ((2, 4), "any"), ((2,), "any"))),
    Case("einsum", lambda L, x, y: L.T.einsum("ij,kj->ik", x, y) * L.T.einsum("ij->i", x * x)
         .reshape(3, 1), (S, S)),
    Case("inv_det_solve", lambda L, a, b: L.T.linalg.solve(a, b) + L.T.linalg.inv(a) @ b
         * L.T.linalg.det(a), (((3, 3), "conditioned"), ((3, 2), "any"))),
    # convolution, pooling, normalisation
    Case("conv2d", lambda L, x, w, b: L.T.tanh(L.F.conv2d(x, w, b, padding=1)),
         (((1, 2, 5, 5), "any"), ((3, 2, 3, 3), "any"), ((3,), "any"))),
    Case("conv2d_stride_dilation_groups",
         lambda L, x, w: L.T.tanh(L.F.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2)),
         (((1, 4, 6, 6), "any"), ((2, 2, 3, 3), "any"))),
    Case("max_pool2d", lambda L, x: L.F.max_pool2d(x * x, 2) + L.F.max_pool2d(
        x, 3, stride=2, padding=1).sum(), (((1, 2, 4, 4), "any"),)),
    Case("adaptive_max_pool2d", lambda L, x: L.F.adaptive_max_pool2d(x * x, (2, 3)),
         (((1, 2, 5, 7), "any"),)),
    Case("avg_pools", lambda L, x: (L.F.avg_pool2d(x, 2) * L.F.adaptive_avg_pool2d(x, 2)),
         (((1, 2, 4, 4), "any"),)),
    Case("batch_norm_train", lambda L, x, w, b: L.F.batch_norm(x, None, None, w, b,
                                                               training=True),
         (((4, 3, 2, 2), "any"), ((3,), "pos"), ((3,), "any"))),
    Case("batch_norm_eval", lambda L, x, w: L.F.batch_norm(
        x * x, L.T.tensor([0.1, -0.2, 0.3], dtype=L.T.float64),
        L.T.tensor([1.5, 0.7, 1.1], dtype=L.T.float64), w, None, training=False),
         (((2, 3, 2), "any"), ((3,), "pos"))),
    Case("layer_norm", lambda L, x, w, b: L.F.layer_norm(x, (4,), w, b),
         (S, ((4,), "pos"), ((4,), "any"))),
    # losses
    Case("cross_entropy", lambda L, x: L.F.cross_entropy(x, _ids(L, [1, 0, 3])), (S,)),
    Case("cross_entropy_smoothing_weight", lambda L, x: L.F.cross_entropy(
        x, _ids(L, [1, 0, 3]), weight=L.T.tensor([1.0, 2.0, 0.5, 1.5], dtype=L.T.float64),
        label_smoothing=0.1), (S,)),
    Case("cross_entropy_probabilities", lambda L, x, q: L.F.cross_entropy(
        x, L.F.softmax(q, 1), reduction="sum"), (S, S)),
    Case("nll_loss", lambda L, x: L.F.nll_loss(L.F.log_softmax(x * x, 1), _ids(L, [2, 0, 1]),
                                               reduction="none"), (S,)),
    Case("mse_l1", lambda L, x, y: L.F.mse_loss(x * y, y) + L.F.l1_loss(x * x, y),
         (S, ((3, 4), "away"))),
    Case("smooth_l1_huber", lambda L, x, y: L.F.smooth_l1_loss(x * x, y, beta=0.5)
         + L.F.huber_loss(x * y, y, delta=0.7), (S, S)),
    Case("bce", lambda L, x, y: L.F.binary_cross_entropy(L.T.sigmoid(x), y),
         (S, ((3, 4), "prob"))),
    Case("bce_with_logits", lambda L, x, y: L.F.binary_cross_entropy_with_logits(
        x, y, pos_weight=L.T.tensor([1.0, 2.0, 0.5, 3.0], dtype=L.T.float64)),
         (S, ((3, 4), "prob"))),
    Case("bce_with_logits_at_zero_logits", lambda L, x, y:  # smooth there, as softplus is
         L.F.binary_cross_entropy_with_logits(x, y), (((3, 4), "zero"), ((3, 4), "prob"))),
    Case("smooth_functions_at_zero", lambda L, x: L.F.softplus(x) + L.T.sigmoid(x)
         + L.F.gelu(x) + L.F.log_softmax(x, 1) + L.T.logsumexp(x, 1, keepdim=True)
         + L.F.elu(x) * 0.0, (((3, 4), "zero"),)),
    Case("cross_entropy_at_zero_logits", lambda L, x: L.F.cross_entropy(x, _ids(L, [1, 0, 3])),
         (((3, 4), "zero"),)),
    # embedding, dropout
    Case("embedding", lambda L, w: L.F.embedding(_ids(L, [[1, 0], [2, 1]]), w * w,
                                                 padding_idx=0), (((3, 4), "any"),)),
    Case("dropout", lambda L, x: _seeded(L) and L.F.dropout(x * x, 0.4, training=True),
         (S,), torch_parity=False),
]


def _write_through_view(x: Any, y: Any) -> Any:
    """``h[1].mul_(y[0])``: an in-place change of a view rewrites its base's history."""
    h = x * 1
    h[1].mul_(y[0])
    h[:, 2:].add_(x[:, :2] * y[:, 1:3])
    return h * x


def _seeded(L: Any) -> bool:
    L.T.manual_seed(0)
    return True


def _make(L: Any, case: Case, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [L.T.tensor(_values(shape, kind, rng), requires_grad=True)
            for shape, kind in case.inputs]


def _second_order(L: Any, case: Case) -> tuple[list[np.ndarray], list[np.ndarray]]:
    xs = _make(L, case)
    out = case.fn(L, *xs)
    rng = np.random.default_rng(1)
    v = L.T.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    grads = L.T.autograd.grad(out, xs, v, create_graph=True)
    us = [L.T.tensor(rng.standard_normal(tuple(g.shape))) for g in grads]
    total = sum((g * u).sum() for g, u in zip(grads, us, strict=True))
    second = L.T.autograd.grad(total, [*xs, v], allow_unused=True)
    first = [g.detach().numpy() for g in grads]
    return first, [np.zeros(tuple(t.shape)) if s is None else s.detach().numpy()
                   for s, t in zip(second, [*xs, v], strict=True)]


@pytest.mark.parametrize("case", [c for c in CASES if c.torch_parity], ids=lambda c: c.name)
def test_second_derivatives_match_torch(case: Case) -> None:
    first, second = _second_order(DG, case)
    first_t, second_t = _second_order(TORCH, case)
    for ours, theirs in zip(first + second, first_t + second_t, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradgradcheck(case: Case) -> None:
    xs = _make(DG, case)
    assert dg.gradgradcheck(lambda *a: case.fn(DG, *a), xs, atol=1e-6)


def test_backward_saves_only_inputs_outputs_and_constants() -> None:
    """An op whose backward runs on graph Tensors must not save a value computed from its
    inputs: it would come back as a constant and the second derivative would be wrong."""
    checked = set()
    for case in CASES:
        out = case.fn(DG, *_make(DG, case))
        for node in dg.autograd.graph_nodes(out):
            fn = getattr(node, "fn", None)
            if fn is None or not fn.differentiable_backward:
                continue
            tracked = {id(entry[3]) for entry in node.saved_versions}
            for saved in node.saved_tensors:
                array = getattr(saved, "_array", saved)
                if isinstance(array, np.ndarray) and array.dtype.kind == "f" and array.ndim:
                    assert id(array) in tracked, f"{fn.__name__} saved a computed float value"
            checked.add(fn.__name__)
    assert {"Mul", "Exp", "Tanh", "Softmax", "Linear", "MatMul", "Var"} <= checked


def test_fourth_derivative_of_tanh_matches_torch() -> None:
    values = np.linspace(-2, 2, 9)
    results = []
    for L in (DG, TORCH):
        x = L.T.tensor(values, requires_grad=True)
        g = L.T.tanh(x)
        for _ in range(4):
            (g,) = L.T.autograd.grad(g.sum(), x, create_graph=True)
        results.append(g.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)
    t = np.tanh(values)  # d4/dx4 tanh = 8 t (1 - t^2)(2 - 3 t^2)
    assert np.allclose(results[0], 8 * t * (1 - t * t) * (2 - 3 * t * t), atol=1e-10)


def _mlp_loss(L: Any, w1: Any, w2: Any, x: Any, y: Any) -> Any:
    return L.F.mse_loss(L.T.tanh(x @ w1) @ w2, y)


def _mlp_data(L: Any) -> tuple[Any, ...]:
    rng = np.random.default_rng(3)
    return (L.T.tensor(rng.standard_normal((4, 3))), L.T.tensor(rng.standard_normal((3, 2))),
            L.T.tensor(rng.standard_normal((5, 4))), L.T.tensor(rng.standard_normal((5, 2))))


def _functional_results(L: Any) -> dict[str, list[Any]]:
    fn = L.T.autograd.functional
    w1, w2, x, y = _mlp_data(L)

    def loss(a: Any, b: Any) -> Any:
        return _mlp_loss(L, a, b, x, y)

    def net(a: Any) -> Any:
        return L.T.tanh(x @ a)

    v = (L.T.ones_like(w1), L.T.ones_like(w2) * 0.5)
    h = fn.hessian(loss, (w1, w2))
    out, back = fn.vjp(net, w1, L.T.ones(5, 3, dtype=L.T.float64))
    results = {
        "hessian": [h[i][j] for i in range(2) for j in range(2)],
        "hessian_single": [fn.hessian(lambda a: loss(a, w2), w1)],
        "hvp": list(fn.hvp(loss, (w1, w2), v)[1]),
        "vhp": list(fn.vhp(loss, (w1, w2), v)[1]),
        "jacobian": [fn.jacobian(net, w1)],
        "jvp": [fn.jvp(net, w1, L.T.ones_like(w1))[1]],
        "vjp": [out, back],
    }
    return {name: [t.numpy() for t in ts] for name, ts in results.items()}


def test_hessian_hvp_vhp_jacobian_jvp_vjp_match_torch() -> None:
    ours, theirs = _functional_results(DG), _functional_results(TORCH)
    for name in ours:
        for a, b in zip(ours[name], theirs[name], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_hvp_equals_a_finite_difference_of_gradients() -> None:
    w1, w2, x, y = _mlp_data(DG)
    v = (DG.T.tensor(np.random.default_rng(4).standard_normal((4, 3))), DG.T.zeros(3, 2,
                                                                               dtype=dg.float64))
    _, (hv1, _) = dg.autograd.functional.hvp(lambda a, b: _mlp_loss(DG, a, b, x, y),
                                            (w1, w2), v)
    eps = 1e-6

    def grad_at(a: Any) -> np.ndarray:
        a = a.detach().requires_grad_(True)
        (g,) = dg.autograd.grad(_mlp_loss(DG, a, w2, x, y), a)
        return g.numpy()

    numeric = (grad_at(w1 + eps * v[0]) - grad_at(w1 - eps * v[0])) / (2 * eps)
    np.testing.assert_allclose(hv1.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_functional_results_keep_their_structure_and_refuse_bad_input() -> None:
    fn = dg.autograd.functional
    x = dg.tensor([1.0, 2.0], dtype=dg.float64)
    assert isinstance(fn.hessian(lambda a: (a ** 3).sum(), x), dg.Tensor)
    h = fn.hessian(lambda a, b: (a * b).sum(), (x, x))
    assert isinstance(h, tuple) and isinstance(h[0], tuple) and h[0][1].shape == (2, 2)
    assert not fn.hessian(lambda a: (a ** 3).sum(), x).requires_grad
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        fn.vjp(lambda a: a, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        fn.hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        fn.vjp(lambda a, b: a * 2, (x, x), dg.ones(2, dtype=dg.float64), strict=True)
    zero = fn.vjp(lambda a, b: a * 2, (x, x), dg.ones(2, dtype=dg.float64))[1][1]
    assert np.array_equal(zero.numpy(), [0.0, 0.0])


def test_double_backward_through_conv_pool_cross_entropy_matches_torch() -> None:
    """A WGAN-GP-style gradient penalty: the norm of d(loss)/d(input), differentiated
    with respect to the weights."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 8, 8), (4, 3, 3, 3), (4,))]
    grads = []
    for L in (DG, TORCH):
        x, w, b = (L.T.tensor(a, requires_grad=True) for a in arrays)
        h = L.F.max_pool2d(L.F.relu(L.F.conv2d(x, w, b, padding=1)), 2)
        loss = L.F.cross_entropy(h.reshape(2, -1)[:, :6], L.T.tensor([1, 4]))
        (gx,) = L.T.autograd.grad(loss, x, create_graph=True)
        penalty = ((gx.reshape(2, -1).norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        grads.append([t.grad.numpy() for t in (x, w, b)])
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell", "LSTM", "GRU"])
def test_recurrent_layers_twice_differentiable_like_torch(cell: str) -> None:
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cell)(3, 4).double()
    ours = getattr(dg.nn, cell)(3, 4).double()
    ours.load_state_dict({k: dg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    data = np.random.default_rng(6).standard_normal((2, 3) if "Cell" in cell else (5, 2, 3))
    results = []
    for L, layer in ((DG, ours), (TORCH, theirs)):
        x = L.T.tensor(data, requires_grad=True)
        out = layer(x)
        out = out[0] if isinstance(out, tuple) else out
        (gx,) = L.T.autograd.grad((out * out).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        results.append([p.grad.numpy() for p in layer.parameters()] + [x.grad.numpy()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_grad_after_create_graph_has_history_and_graph_is_kept() -> None:
    for L in (DG, TORCH):
        x = L.T.tensor([0.5, -1.0], dtype=L.T.float64, requires_grad=True)
        y = (x ** 3).sum()
        y.backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        first = x.grad.detach().numpy().copy()
        y.backward(create_graph=True)  # retain_graph defaults to create_graph
        np.testing.assert_allclose(x.grad.detach().numpy(), 2 * first)
        (g2,) = L.T.autograd.grad(x.grad.sum(), x)
        np.testing.assert_allclose(g2.numpy(), 12 * x.detach().numpy())


def test_in_place_ops_in_the_graph_are_twice_differentiable_like_torch() -> None:
    results = []
    for L in (DG, TORCH):
        x = L.T.tensor([0.3, -0.8, 1.2], dtype=L.T.float64, requires_grad=True)
        h = x * 2
        h.mul_(x)
        h += x.sin()
        h = L.F.relu(h, inplace=True)
        (g,) = L.T.autograd.grad(h.sum(), x, create_graph=True)
        (g2,) = L.T.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), g2.numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _cube_functions(base: Any, once: Callable[..., Any] | None) -> Any:
    class Cube(base):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    if once is not None:
        Cube.backward = staticmethod(once(Cube.backward.__func__ if hasattr(
            Cube.backward, "__func__") else Cube.backward))
    return Cube


def test_custom_function_backward_is_differentiated_like_torch() -> None:
    results = []
    for L, base in ((DG, DgFunction), (TORCH, torch.autograd.Function)):
        cube = _cube_functions(base, None)
        x = L.T.tensor([0.5, 2.0], dtype=L.T.float64, requires_grad=True)
        (g,) = L.T.autograd.grad(cube.apply(x).sum(), x, create_graph=True)
        (g2,) = L.T.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), g2.numpy()))
    np.testing.assert_allclose(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][1], [3.0, 12.0])


def test_once_differentiable_refuses_a_second_backward_like_torch() -> None:
    """As torch: the gradients of a ``@once_differentiable`` backward carry no history when
    the incoming gradient has none, and refuse a backward by name when it has."""
    for L, base, once in ((DG, DgFunction, dg_once),
                          (TORCH, torch.autograd.Function, torch.autograd.function.
                           once_differentiable)):
        cube = _cube_functions(base, once)
        x = L.T.tensor([0.5, 2.0], dtype=L.T.float64, requires_grad=True)
        (g,) = L.T.autograd.grad(cube.apply(x).sum(), x)  # first order works
        np.testing.assert_allclose(g.numpy(), [0.75, 12.0])
        (g,) = L.T.autograd.grad(cube.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad
        v = L.T.ones(2, dtype=L.T.float64, requires_grad=True)
        (g,) = L.T.autograd.grad(cube.apply(x), x, v, create_graph=True)
        with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
            g.sum().backward()


def test_op_without_double_backward_refuses_by_name() -> None:
    a = dg.tensor([[0.5, 2.0], [3.0, 1.0]], dtype=dg.float64, requires_grad=True)
    diagonal = lambda: (dg.einsum("ii->i", a) ** 2).sum()  # noqa: E731 - a repeated index
    with pytest.raises(NotImplementedError, match="einsum's backward.*repeated index"):
        dg.autograd.grad(diagonal(), a, create_graph=True)
    (g,) = dg.autograd.grad(diagonal(), a)  # first order is unaffected
    np.testing.assert_allclose(g.numpy(), [[1.0, 0.0], [0.0, 2.0]])


def test_decomposed_op_sees_in_place_changes_of_its_inputs() -> None:
    x = dg.randn(1, 1, 4, 4, dtype=dg.float64, requires_grad=True)
    w = dg.randn(1, 1, 3, 3, dtype=dg.float64)
    h = x * 1
    out = dgF.conv2d(h, w)
    with dg.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        dg.autograd.grad(out.sum(), x, create_graph=True)


def test_grad_of_an_intermediate_computes_nothing_beyond_it() -> None:
    """autograd.grad(y, h) stops at h, as torch: an op upstream of h that has no double
    backward is never asked for one."""  # (before the pruning this raised)
    x = dg.tensor([0.5, 2.0], dtype=dg.float64, requires_grad=True)
    outer = x.reshape(2, 1) * x.reshape(1, 2)
    h = dg.einsum("ii->i", outer) * x  # this einsum has no double backward; it lies before h
    y = (h ** 2).sum()
    (gh,) = dg.autograd.grad(y, h, create_graph=True)
    np.testing.assert_allclose(gh.detach().numpy(), 2 * h.detach().numpy())
    assert x.grad is None
