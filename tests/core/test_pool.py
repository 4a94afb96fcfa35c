"""Pooling: float64 gradcheck + float32 torch parity, indices, layouts, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import deepgrad
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1, user_api="blas"):
        yield


def distinct(*shape: int, seed: int = 0) -> np.ndarray:
    """Values in [-2, 2) without ties, so the max of each window is unique (gradcheck-safe)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).reshape(shape) / n * 4 - 2)


def pair(name: str, *args: Any, **kw: Any) -> tuple[Any, Any]:
    return (lambda x: getattr(F, name)(x, *args, **kw)), (lambda x: getattr(tF, name)(x, *args,
                                                                                     **kw))


@pytest.mark.parametrize("shape, args, kw", [
    ((2, 3, 6, 8), (2,), {}),
    ((2, 3, 7, 9), (2,), {}),                                  # odd: last row/col dropped
    ((2, 2, 7, 9), (3, 2, 1), {}),                             # overlapping, padded
    ((1, 2, 8, 9), (3, 2, 1), {"ceil_mode": True}),
    ((1, 2, 7, 7), (2,), {"ceil_mode": True}),
    ((1, 2, 6, 7), (3, 1), {}),                                # stride < kernel
    ((1, 2, 9, 9), (2, 3), {}),                                # stride > kernel
    ((1, 2, 8, 9), ((2, 3), (1, 2), (1, 1)), {"dilation": (2, 1)}),
    ((2, 5, 5), (2,), {}),                                     # unbatched
])
def test_max_pool2d(shape: tuple, args: tuple, kw: dict) -> None:
    dg_fn, torch_fn = pair("max_pool2d", *args, **kw)
    check_op(dg_fn, [distinct(*shape)], torch_fn)


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 1), (2, 1), True)])
def test_max_pool2d_return_indices(args: tuple) -> None:
    x = distinct(2, 3, 8, 9).astype(np.float32)
    out, idx = F.max_pool2d(deepgrad.tensor(x), *args, return_indices=True)
    t_out, t_idx = tF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert idx.dtype == np.int64


def test_max_pool2d_ties_route_to_first_max_and_nan_propagates() -> None:
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 2, 3] = np.nan
    dx, tx = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = F.max_pool2d(dx, 2), tF.max_pool2d(tx, 2)
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_array_equal(dx.grad.numpy(), tx.grad.numpy())


def _every_four_window(values: tuple[float, ...]) -> np.ndarray:
    """(1, 2, 2, 2*W): every assignment of ``values`` to a window's four cells, side by
    side in W = len(values)**4 2x2 windows (channel 1 is the negation)."""
    grid = np.array(np.meshgrid(*[values] * 4, indexing="ij")).reshape(4, -1)  # (4, W)
    x = grid.reshape(2, 2, -1).transpose(0, 2, 1).reshape(2, -1)
    return np.stack([x, -x])[None].astype(np.float32)


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("kernel, channels_last", [(2, False), (2, True), ((1, 4), False),
                                                   ((4, 1), True)])
def test_max_pool2d_four_cell_windows_match_torch_on_every_tie(kernel: Any, channels_last: bool,
                                                               nan: bool) -> None:
    """Every tie pattern of three values in a four-offset window (and, separately, NaNs:
    their own rule) routes the gradient to the offset torch picks, in either memory
    order."""
    x = _every_four_window((0.0, 1.0, 2.0))
    if kernel == (1, 4):
        x = x.reshape(1, 2, 1, -1)
    elif kernel == (4, 1):
        x = x.reshape(1, 2, -1, 1)
    if nan:
        x[0, 0, 0, :3] = np.nan
    array = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) \
        if channels_last else x
    dx = deepgrad.tensor(array, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(dx, kernel, return_indices=True)
    t_out, t_idx = tF.max_pool2d(tx, kernel, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    weights = np.arange(1, out.numel() + 1, dtype=np.float32).reshape(out.shape)
    (out * deepgrad.tensor(weights)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(dx.grad.numpy(), tx.grad.numpy())


def test_max_pool2d_keeps_argmax_compact() -> None:
    x = deepgrad.randn(2, 3, 8, 8, requires_grad=True)
    out = F.max_pool2d(x, 2)
    (argmax,) = out.grad_fn.saved_tensors
    assert argmax.dtype == np.uint8 and argmax.shape == (2, 3, 4, 4)


@pytest.mark.parametrize("shape, args, kw", [
    ((2, 3, 6, 8), (2,), {}),
    ((2, 3, 7, 9), (2,), {}),
    ((2, 2, 7, 9), (3, 2, 1), {}),
    ((2, 2, 7, 9), (3, 2, 1), {"count_include_pad": False}),
    ((1, 2, 8, 10), (3, 2, 1), {"ceil_mode": True}),
    ((1, 2, 8, 10), (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}),
    ((1, 2, 8, 10), (3, 2), {"ceil_mode": True}),
    ((1, 2, 6, 7), ((2, 3), 1), {}),
    ((1, 2, 8, 10), ((2, 3),), {"divisor_override": 5}),
    ((2, 5, 6), (2,), {}),
])
def test_avg_pool2d(shape: tuple, args: tuple, kw: dict) -> None:
    dg_fn, torch_fn = pair("avg_pool2d", *args, **kw)
    check_op(dg_fn, [shape], torch_fn)


@pytest.mark.parametrize("shape, size", [
    ((2, 3, 7, 9), (3, 4)),
    ((2, 3, 6, 8), (3, 4)),   # even windows: the avg-pool path
    ((2, 3, 5, 5), 1),        # global average
    ((2, 3, 7, 9), (None, 4)),
    ((3, 5, 6), 4),           # unbatched, windows larger than the step
    ((1, 2, 3, 3), 5),        # output larger than the input
])
def test_adaptive_avg_pool2d(shape: tuple, size: Any) -> None:
    dg_fn, torch_fn = pair("adaptive_avg_pool2d", size)
    check_op(dg_fn, [shape], torch_fn)


@pytest.mark.parametrize("shape, size", [((2, 3, 7, 9), (3, 4)), ((2, 3, 6, 8), (3, 4)),
                                         ((1, 2, 3, 3), 5)])
def test_adaptive_max_pool2d(shape: tuple, size: Any) -> None:
    dg_fn, torch_fn = pair("adaptive_max_pool2d", size)
    check_op(dg_fn, [distinct(*shape)], torch_fn)
    x = distinct(*shape).astype(np.float32)
    _, idx = F.adaptive_max_pool2d(deepgrad.tensor(x), size, return_indices=True)
    _, t_idx = tF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_keeps_dtype_and_channels_last(name: str) -> None:
    """Pooling a conv output (channels-last memory) keeps that memory order and the dtype."""
    x = F.conv2d(deepgrad.randn(2, 3, 8, 8), deepgrad.randn(4, 3, 3, 3, requires_grad=True),
                 padding=1)
    out = getattr(F, name)(x, 2)
    assert out.dtype == np.float32
    assert out.data.numpy().strides[1] < out.data.numpy().strides[3]  # NHWC memory
    out.sum().backward()
    for dtype in (np.float32, np.float64):
        y = deepgrad.tensor(np.ones((1, 2, 4, 4), dtype), requires_grad=True)
        getattr(F, name)(y, 2).sum().backward()
        assert y.grad.dtype == dtype


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_output_too_small(name: str) -> None:
    with pytest.raises(RuntimeError, match=name + r": output size \(0, 0\) is too small "
                                                  r"\(must be >= 1\).*\(1, 1, 2, 2\)"):
        getattr(F, name)(deepgrad.randn(1, 1, 2, 2), 3)


def test_pool_bad_input() -> None:
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half"):
        F.max_pool2d(deepgrad.randn(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: expected 3-D \(C, H, W\) or 4-D"):
        F.avg_pool2d(deepgrad.randn(8, 8), 2)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d: output_size must be >= 1"):
        F.adaptive_avg_pool2d(deepgrad.randn(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be >= 1"):
        F.max_pool2d(deepgrad.randn(1, 1, 8, 8), 0)


@st.composite
def pool_configs(draw: st.DrawFn) -> dict[str, Any]:
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    span = (dilation[0] * (k[0] - 1) + 1, dilation[1] * (k[1] - 1) + 1)
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), 9))
    return {"shape": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), "k": k,
            "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))), "padding": padding,
            "dilation": dilation, "ceil_mode": draw(st.booleans()),
            "count_include_pad": draw(st.booleans()), "channels_last": draw(st.booleans()),
            "seed": draw(st.integers(0, 2**16))}


def _every_window_touches_input(cfg: dict[str, Any], axis: int) -> bool:
    size, k, s = cfg["shape"][2 + axis], cfg["k"][axis], cfg["stride"][axis]
    p, d = cfg["padding"][axis], cfg["dilation"][axis]
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + (s - 1 if cfg["ceil_mode"] else 0)) // s + 1
    if cfg["ceil_mode"] and (out - 1) * s >= size + p:
        out -= 1
    taps = np.arange(out)[:, None] * s - p + np.arange(k) * d
    return bool(((taps >= 0) & (taps < size)).any(axis=1).all())


@settings(max_examples=60, deadline=None)
@given(cfg=pool_configs())
def test_pools_match_torch_for_any_geometry(cfg: dict[str, Any]) -> None:
    """max_pool2d (with indices) and avg_pool2d agree with torch over random geometries,
    in NCHW and channels-last memory."""
    # A window of padding only (possible with dilation) is degenerate: torch's index and
    # gradient for it point outside the window, so leave such geometries out.
    assume(all(_every_window_touches_input(cfg, axis) for axis in (0, 1)))
    x = distinct(*cfg["shape"], seed=cfg["seed"]).astype(np.float32)
    if cfg["channels_last"]:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    common = {"stride": cfg["stride"], "padding": cfg["padding"], "ceil_mode": cfg["ceil_mode"]}
    calls = [("max_pool2d", {**common, "dilation": cfg["dilation"], "return_indices": True}),
             ("avg_pool2d", {**common, "count_include_pad": cfg["count_include_pad"]})]
    g = np.random.default_rng(cfg["seed"]).standard_normal
    for name, kw in calls:
        dx, tx = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, t_out = getattr(F, name)(dx, cfg["k"], **kw), getattr(tF, name)(tx, cfg["k"], **kw)
        if name == "max_pool2d":
            (out, idx), (t_out, t_idx) = out, t_out
            np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6,
                                   atol=1e-6)
        grad = g(out.shape).astype(np.float32)
        out.backward(deepgrad.tensor(grad))
        t_out.backward(torch.tensor(grad))
        np.testing.assert_allclose(dx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
