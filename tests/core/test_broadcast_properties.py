"""Hypothesis: broadcasting and reductions agree with NumPy for any compatible shapes,
and every gradient has its input's shape and sums the way the chain rule says."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import deepgrad

shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


@settings(max_examples=60, deadline=None)
@given(shapes=shapes, seed=st.integers(0, 2**16))
def test_binary_broadcast_forward_and_unbroadcast_backward(shapes, seed: int) -> None:
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a_np, b_np = rng.standard_normal(sa), rng.standard_normal(sb)
    a = deepgrad.tensor(a_np, requires_grad=True)
    b = deepgrad.tensor(b_np, requires_grad=True)
    out = a * b + a
    assert out.shape == tuple(out_shape)
    np.testing.assert_allclose(out.data.numpy(), a_np * b_np + a_np)
    out.sum().backward()
    assert a.grad.shape == tuple(sa) and b.grad.shape == tuple(sb)
    # d/da sum(a*b + a) = sum over broadcast copies of (b + 1)
    expect_a = np.broadcast_to(b_np + 1, out_shape)
    expect_b = np.broadcast_to(a_np, out_shape)
    from deepgrad.ops.elementwise import unbroadcast

    np.testing.assert_allclose(a.grad.data.numpy(), unbroadcast(np.array(expect_a), tuple(sa)))
    np.testing.assert_allclose(b.grad.data.numpy(), unbroadcast(np.array(expect_b), tuple(sb)))
    np.testing.assert_allclose(a.grad.data.numpy().sum(), expect_a.sum())


@settings(max_examples=60, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
    data=st.data(),
)
def test_reductions_match_numpy(shape, data) -> None:
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    keepdim = data.draw(st.booleans())
    x_np = np.random.default_rng(0).standard_normal(shape)
    x = deepgrad.tensor(x_np, requires_grad=True)
    axes = tuple(dims)
    for name, ref in [("sum", np.sum), ("mean", np.mean), ("amax", np.max)]:
        out = getattr(x, name)(dim=axes, keepdim=keepdim)
        np.testing.assert_allclose(out.data.numpy(), ref(x_np, axis=axes, keepdims=keepdim))
    out = x.mean(dim=axes, keepdim=keepdim)
    out.sum().backward()
    count = np.prod([shape[d] for d in axes])
    np.testing.assert_allclose(x.grad.data.numpy(), np.full(shape, 1.0 / count))
