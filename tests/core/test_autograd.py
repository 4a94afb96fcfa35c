"""The graph walk: order, accumulation, freeing, hooks, modes, anomaly detection."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
from deepgrad import autograd


def test_chain_of_5000_ops_backprops_without_recursion() -> None:
    x = deepgrad.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-3)


def test_200_layer_mlp_backprops() -> None:
    rng = np.random.default_rng(0)
    x = deepgrad.tensor(rng.standard_normal((4, 16)))
    weights = [deepgrad.tensor(rng.standard_normal((16, 16)) * 0.25, requires_grad=True)
               for _ in range(200)]
    h = x
    for w in weights:
        h = (h @ w).tanh()
    h.sum().backward()
    assert all(w.grad is not None and w.grad.shape == (16, 16) for w in weights)
    assert np.isfinite(weights[0].grad.numpy()).all()


def test_gradients_accumulate_over_uses_and_calls() -> None:
    x = deepgrad.tensor([2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 9.0])


def test_shared_subgraph_diamond() -> None:
    x = deepgrad.tensor(1.5, requires_grad=True)
    a = x * 2
    b = a * a + a.exp()
    b.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * (2 * 3.0 + np.exp(3.0)), rtol=1e-6)


def test_backward_twice_raises_clearly_and_retain_graph_allows_it() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_saved_arrays_are_freed_after_backward() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    assert y.grad_fn.saved_tensors == ()
    assert y.grad_fn.freed


def test_non_scalar_backward_needs_gradient() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match=r"only for scalar outputs; got shape \(2,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\), expected .*\(2,\)"):
        y.backward(deepgrad.ones(3))
    y.backward(deepgrad.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])


def test_backward_without_grad_explains() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        deepgrad.tensor([1.0]).sum().backward()


def test_no_grad_builds_no_graph_and_is_a_decorator() -> None:
    x = deepgrad.tensor([1.0], requires_grad=True)
    with deepgrad.no_grad():
        y = x * 2
        with deepgrad.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None

    @deepgrad.no_grad()
    def f(t: deepgrad.Tensor) -> deepgrad.Tensor:
        return t * 3

    assert f(x).grad_fn is None
    assert deepgrad.is_grad_enabled()
    deepgrad.set_grad_enabled(False)
    assert not deepgrad.is_grad_enabled()
    deepgrad.set_grad_enabled(True)
    with deepgrad.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert deepgrad.is_grad_enabled()


def test_autograd_grad_leaves_dot_grad_untouched() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    w = deepgrad.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = autograd.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    unused = deepgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        autograd.grad((x * 2).sum(), [unused])


def test_tensor_hooks_see_and_replace_gradients() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    remove = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])
    remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_retain_grad_on_intermediate() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])


def test_graph_is_inspectable() -> None:
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    assert y.grad_fn.name() == "SumBackward"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward"
    exp_node = mul.next_functions[0][0]
    assert exp_node.name() == "ExpBackward"
    leaf = exp_node.next_functions[0][0]
    assert leaf.name() == "AccumulateGrad" and leaf.variable is x
    assert exp_node.next_functions[0][0] is leaf  # one node per leaf
    names = {n.name() for n in autograd.graph_nodes(y)}
    assert names == {"SumBackward", "MulBackward", "ExpBackward", "AccumulateGrad"}


def test_detect_anomaly_names_log_and_the_line() -> None:
    x = deepgrad.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(autograd.AnomalyError, match=r"Log produced Inf.*test_autograd.py:\d+"):
        with autograd.detect_anomaly():
            x.log().sum().backward()


def test_detect_anomaly_catches_backward_nan() -> None:
    x = deepgrad.tensor([0.0, 4.0], requires_grad=True)
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError, match="Sqrt.*backward"):
        (x.sqrt() * 0 + x).sum().backward()


def test_custom_function() -> None:
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return (3 * x**2 * grad,)

    x = deepgrad.tensor([1.0, 2.0], dtype=deepgrad.float64, requires_grad=True)
    assert deepgrad.gradcheck(lambda t: Cube.apply(t), [x])
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_gradcheck_catches_a_wrong_backward() -> None:
    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    x = deepgrad.tensor([1.0, 2.0], dtype=deepgrad.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="gradient entries differ"):
        deepgrad.gradcheck(lambda t: Wrong.apply(t), [x])
    big = deepgrad.randn(3000, dtype=deepgrad.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="directional derivative"):
        deepgrad.gradcheck(lambda t: Wrong.apply(t), [big])
    assert deepgrad.gradcheck(lambda t: (t * t).sum(), [big])


def test_inplace_on_grad_leaf_is_refused_outside_no_grad() -> None:
    w = deepgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place.*no_grad"):
        w.add_(1.0)
    with deepgrad.no_grad():
        w.sub_(deepgrad.tensor([0.5]), alpha=2.0)
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w.detach().numpy(), [0.0])


def test_a_fresh_leaf_gradient_is_adopted_without_a_copy() -> None:
    """The gradient array a backward produced, referred to by nothing else, becomes the
    leaf's .grad itself (no copy per parameter per step); aliased ones are copied."""
    from deepgrad.autograd import Context, Function

    made: list[int] = []

    class Twice(Function):
        @staticmethod
        def forward(ctx: Context, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Context, grad: Any) -> Any:
            out = grad * 2
            made.append(id(getattr(out, "_array", out)))  # the array, not its Tensor
            return out

    x = deepgrad.ones(5, requires_grad=True)
    Twice.apply(x).sum().backward()
    assert id(x.grad._array) == made[-1]
    keep: list[Any] = []

    class Kept(Twice):
        @staticmethod
        def backward(ctx: Context, grad: Any) -> Any:
            keep.append(grad * 2)
            return keep[-1]

    y = deepgrad.ones(5, requires_grad=True)
    Kept.apply(y).sum().backward()
    kept = getattr(keep[-1], "_array", keep[-1])
    assert y.grad._array is not kept and not np.shares_memory(y.grad._array, kept)
