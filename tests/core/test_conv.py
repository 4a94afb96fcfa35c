"""conv2d: float64 gradcheck + float32 torch parity per configuration, dtypes, bad input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import deepgrad
import deepgrad.nn.functional as F
from deepgrad.ops import conv as conv_ops
from deepgrad.ops import conv_strips, winograd
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Gradchecks run thousands of tiny GEMMs: BLAS threads only add overhead (and stall
    badly on a busy machine)."""
    with threadpool_limits(1, user_api="blas"):
        yield


def force_layout(monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    """Route every non-Winograd layer through one im2col layout, or through the strips
    wherever they apply (stride 1, no dilation or groups, a strip width dividing Wo)."""
    strips = layout == "strips"
    monkeypatch.setattr(conv_strips, "MAX_IN_CHANNELS", 10**6 if strips else 0)
    monkeypatch.setattr(conv_strips, "MAX_OUT_CHANNELS", 10**6 if strips else 0)
    monkeypatch.setattr(conv_ops, "prefer_channels_first",
                        lambda *args: layout == "channels_first")


def conv(**kw: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The same call for deepgrad and torch (bias optional: two or three inputs)."""
    return (lambda *a: F.conv2d(*a, **kw)), (lambda *a: tF.conv2d(*a, **kw))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("shapes, kw", [
    ([(2, 3, 5, 5), (4, 3, 3, 3), (4,)], {"padding": 1}),
    ([(2, 3, 7, 6), (4, 3, 3, 2), (4,)], {"stride": 2, "padding": (1, 0)}),
    ([(1, 2, 6, 7), (3, 2, 2, 4), (3,)], {"padding": "same", "dilation": (1, 2)}),
    ([(2, 2, 5, 6), (3, 2, 3, 3), (3,)], {"padding": "same"}),
    ([(2, 2, 6, 5), (3, 2, 3, 2)], {"padding": "valid"}),
    ([(2, 2, 9, 8), (3, 2, 3, 3), (3,)], {"dilation": 2, "padding": 1}),
    ([(2, 4, 6, 6), (6, 2, 3, 3), (6,)], {"groups": 2, "padding": 1}),
    ([(1, 4, 5, 5), (4, 1, 3, 3)], {"groups": 4, "stride": 2}),
    ([(2, 3, 5, 5), (4, 3, 3, 3)], {}),
    ([(1, 3, 7, 9), (2, 3, 2, 2), (2,)], {"stride": 3}),  # stride > kernel: holes in grad
    ([(2, 3, 4, 4), (2, 3, 1, 1), (2,)], {"padding": 2}),  # padding wider than the kernel
    ([(2, 3, 6, 5), (5, 3, 4, 3), (5,)], {"stride": (2, 1), "padding": (2, 1),
                                          "dilation": (1, 2)}),
])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first", "strips"])
def test_conv2d_parity(shapes: list, kw: dict, layout: str,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each configuration through both internal patch layouts and, where they apply, the
    strips."""
    if layout == "channels_first" and kw.get("groups", 1) > 1:
        pytest.skip("channels-first patches are used for groups=1 only")
    force_layout(monkeypatch, layout)
    if layout == "strips":
        ref = tF.conv2d(torch.zeros(shapes[0]), torch.zeros(shapes[1]), **kw)
        if not conv_strips.suits(conv_ops.pair("t", "s", kw.get("stride", 1)),
                                 conv_ops.pair("t", "d", kw.get("dilation", 1)),
                                 kw.get("groups", 1), shapes[0][1], shapes[1][0],
                                 ref.shape[-1]):
            pytest.skip("strips are for stride 1, no dilation or groups")
    dg_fn, torch_fn = conv(**kw)
    check_op(dg_fn, shapes, torch_fn)


def test_conv2d_mnist_first_layer() -> None:
    """The report's first layer: 1 -> 32 channels, 5x5, padding 2, on 28x28."""
    dg_fn, torch_fn = conv(padding=2)
    check_op(dg_fn, [(1, 1, 28, 28), (32, 1, 5, 5), (32,)], torch_fn)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("shapes, kw", [
    ([(2, 3, 7, 9), (4, 3, 3, 3), (4,)], {"padding": 1}),           # tiles overhang both sides
    ([(2, 2, 8, 8), (3, 2, 3, 3), (3,)], {}),                        # 6x6 out: 4x4 tiles overhang
    ([(1, 2, 5, 6), (3, 2, 3, 3)], {"padding": (2, 0)}),
    ([(2, 2, 9, 7), (3, 2, 5, 5), (3,)], {"padding": 2}),
    ([(1, 3, 6, 5), (2, 3, 5, 5), (2,)], {"padding": "same"}),
    ([(2, 2, 5, 5), (2, 2, 5, 5), (2,)], {}),                        # one output pixel
])
def test_conv2d_winograd_parity(shapes: list, kw: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stride-1 3x3 and 5x5 layers through the Winograd path (forced for few channels):
    float64 gradcheck and float32 torch parity, forward and backward. Winograd's float32
    error is relative to the sums' size, not to each output: these unscaled N(0, 1)
    weights give outputs up to ~15, hence an absolute forward tolerance of 1e-4 (7e-6 of
    the range; im2col's error is ten times smaller)."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    geo_kernel = shapes[1][2:]
    assert winograd.tile_size(geo_kernel, (1, 1), (1, 1), 1, shapes[0][1])
    dg_fn, torch_fn = conv(**kw)
    check_op(dg_fn, shapes, torch_fn, atol=1e-4)


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((50, 32, 14, 14), (64, 32, 5, 5), 2),    # report 001's MNIST CNN, second layer
    ((16, 64, 15, 15), (128, 64, 3, 3), 0),   # report 001's CIFAR CNN, second layer
    ((16, 128, 6, 6), (256, 128, 3, 3), 0),   # and third
])
def test_conv2d_winograd_course_layers_float32(x_shape: tuple, w_shape: tuple,
                                               padding: int) -> None:
    """The course's deep layers take the Winograd path; float32 against torch at their real
    sizes, relative to each result's range (Winograd rounds a little more than im2col)."""
    assert conv_ops._path(conv_ops.Geometry(x_shape, w_shape[2:], (0, 0), (1, 1), (1, 1),
                                            (0, 0, 0, 0), (1, 1), 1), x_shape[1],
                          w_shape[0]) == "winograd"
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    ours = [deepgrad.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ours, padding=padding)
    ref = tF.conv2d(*theirs, padding=padding)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(deepgrad.tensor(g))
    ref.backward(torch.tensor(g))
    pairs = [(out.detach().numpy(), ref.detach().numpy())]
    pairs += [(a.grad.numpy(), t.grad.numpy()) for a, t in zip(ours, theirs, strict=True)]
    for got, want in pairs:
        assert np.abs(got - want).max() <= 5e-5 * np.abs(want).max()


def test_winograd_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """DEEPGRAD_WINOGRAD=0 (read at import as winograd.ENABLED) keeps im2col everywhere."""
    geo = conv_ops.Geometry((2, 32, 14, 14), (5, 5), (18, 18), (14, 14), (1, 1),
                            (2, 2, 2, 2), (1, 1), 1)
    assert conv_ops._path(geo, 32, 64) == "winograd"
    monkeypatch.setattr(winograd, "ENABLED", False)
    assert conv_ops._path(geo, 32, 64) == "channels_last"


@pytest.mark.parametrize("block", [16, 7])
def test_conv2d_narrow_layer_in_pixel_blocks(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first layer with few output channels multiplies in blocks of pixels (forward and
    weight gradient) when no strip width fits; a small block forces that path and a
    remainder block here."""
    force_layout(monkeypatch, "channels_first")
    monkeypatch.setattr(conv_ops, "NARROW_BLOCK", block)
    assert conv_ops._narrow(6, 2 * 4 * 12) and conv_ops.prefer_channels_first(3, 3, 12, 1)
    dg_fn, torch_fn = conv(padding=0)
    check_op(dg_fn, [(2, 3, 6, 14), (6, 3, 3, 3), (6,)], torch_fn)


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((8, 3, 32, 32), (6, 3, 5, 5), 0),    # the tutorial CNN's first layer
    ((8, 6, 14, 14), (16, 6, 5, 5), 0),   # its (and LeNet-5's) second layer
    ((8, 1, 28, 28), (6, 1, 5, 5), 2),    # LeNet-5's first layer on MNIST
])
@pytest.mark.parametrize("layout", ["strips", "channels_first"])
def test_conv2d_narrow_course_layers_float32(x_shape: tuple, w_shape: tuple, padding: int,
                                             layout: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's few-channel layers at their real size, through the strips (their
    default) and through channels-first im2col (blocked for a narrow first layer),
    against torch in float32."""
    geo = conv_ops.Geometry(x_shape, w_shape[2:], (0, 0), (1, 1), (1, 1), (0, 0, 0, 0),
                            (1, 1), 1)
    geo = geo._replace(out_hw=(x_shape[2] + 2 * padding - 4, x_shape[3] + 2 * padding - 4))
    assert conv_ops._path(geo, x_shape[1], w_shape[0]) == "strips"
    if layout == "channels_first":
        force_layout(monkeypatch, layout)
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32)
               for s in [x_shape, w_shape, w_shape[:1]])
    ours = [deepgrad.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ours, padding=padding)
    ref = tF.conv2d(*theirs, padding=padding)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-4)
    out.backward(deepgrad.tensor(g))
    ref.backward(torch.tensor(g))
    for a, t in zip(ours, theirs, strict=True):
        want = t.grad.numpy()
        assert np.abs(a.grad.numpy() - want).max() <= 1e-5 * np.abs(want).max() + 1e-5


def test_strips_output_is_channels_last_memory() -> None:
    """The strip GEMM's rows are NHWC memory: the NCHW result is a view of it, which
    pooling and the next layer walk without a transpose."""
    x = deepgrad.randn(4, 3, 32, 32)
    w = deepgrad.randn(6, 3, 5, 5, requires_grad=True)
    out = F.conv2d(x, w).detach().numpy()
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous


def test_strip_band_and_fold_are_adjoint() -> None:
    """``fold`` is the transpose of ``banded``: <banded(W), G> = <W, fold(G^T)> for any
    band gradient G, the identity the weight gradient rests on."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 3, 5, 5))
    for q in conv_strips.WIDTHS:
        band = conv_strips.banded(weight, q)
        g = rng.standard_normal(band.shape)
        assert np.isclose((band * g).sum(),
                          (weight * conv_strips.fold(g.T, weight.shape, q)).sum())


def test_conv2d_unbatched_input() -> None:
    dg_fn, torch_fn = conv(padding=1)
    check_op(dg_fn, [(3, 5, 5), (2, 3, 3, 3), (2,)], torch_fn)


@pytest.mark.parametrize("layout", ["strips", "channels_first"])
def test_conv_stack_through_relu_pool_flatten(layout: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A strip or channels-first first layer, relu, pooling, a channels-last second layer,
    flatten: the non-NCHW memory orders flow through the other ops."""
    if layout == "channels_first":
        monkeypatch.setattr(conv_strips, "MAX_IN_CHANNELS", 0)
    assert conv_ops.prefer_channels_first(1, 3, 10, 1)
    assert not conv_ops.prefer_channels_first(3, 3, 5, 1)

    def net(lib: str, x: Any, w1: Any, w2: Any) -> Any:
        f = F if lib == "dg" else tF
        h = f.max_pool2d(f.relu(f.conv2d(x, w1, padding=1)), 2)
        return f.conv2d(h, w2, padding=1).flatten(1)

    check_op(lambda *a: net("dg", *a), [(2, 1, 10, 10), (3, 1, 3, 3), (4, 3, 3, 3)],
             lambda *a: net("torch", *a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_keeps_dtype(dtype: type) -> None:
    x = deepgrad.tensor(np.ones((2, 3, 6, 6), dtype), requires_grad=True)
    w = deepgrad.tensor(np.ones((4, 3, 3, 3), dtype), requires_grad=True)
    b = deepgrad.tensor(np.ones(4, dtype), requires_grad=True)
    out = F.conv2d(x, w, b, padding=1)
    out.sum().backward()
    assert out.dtype == dtype
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


@pytest.mark.parametrize("layout", ["channels_last", "channels_first", "strips"])
def test_conv2d_weight_grad_only(layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first layer: the data needs no gradient, only the weight and bias do."""
    force_layout(monkeypatch, layout)
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(2, 1, 9, 9), (4, 1, 3, 3),
                                                                     (4,)])
    dx, dw, db = deepgrad.tensor(x), deepgrad.tensor(w, requires_grad=True), \
        deepgrad.tensor(b, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    stride = 1 if layout == "strips" else 2  # strips are for stride 1
    F.conv2d(dx, dw, db, stride=stride, padding=1).square().sum().backward()
    tF.conv2d(torch.tensor(x), tw, tb, stride=stride, padding=1).square().sum().backward()
    assert dx.grad is None
    np.testing.assert_allclose(dw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_no_graph_saves_nothing() -> None:
    x, w = deepgrad.randn(2, 3, 5, 5), deepgrad.randn(4, 3, 3, 3)
    with deepgrad.no_grad():
        out = F.conv2d(x, w, padding=1)
    assert out.grad_fn is None and not out.requires_grad


def test_conv2d_channel_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"conv2d: expected input with in_channels = 1 "
                                           r".*\(32, 1, 5, 5\).*received input of shape "
                                           r"\(50, 3, 28, 28\) with 3 channels"):
        F.conv2d(deepgrad.randn(50, 3, 28, 28), deepgrad.randn(32, 1, 5, 5))


def test_conv2d_groups_channel_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"conv2d: expected input with in_channels = 4 "
                                           r".*groups=2"):
        F.conv2d(deepgrad.randn(1, 3, 5, 5), deepgrad.randn(4, 2, 3, 3), groups=2)


@pytest.mark.parametrize("shape", [(28, 28), (1, 1, 1, 28, 28)])
def test_conv2d_input_not_4d(shape: tuple) -> None:
    with pytest.raises(RuntimeError, match=r"conv2d: expected 4-D input \(N, C, H, W\)"):
        F.conv2d(deepgrad.randn(*shape), deepgrad.randn(4, 1, 3, 3))


def test_conv2d_3d_batch_without_channel_dim_hints_unsqueeze() -> None:
    with pytest.raises(RuntimeError, match=r"got input of shape \(50, 28, 28\).*unsqueeze\(1\)"):
        F.conv2d(deepgrad.randn(50, 28, 28), deepgrad.randn(32, 1, 5, 5))


def test_conv2d_kernel_larger_than_padded_input() -> None:
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size \(5, 5\).*larger than the "
                                           r"padded input size \(3, 3\) \(input \(3, 3\)\)"):
        F.conv2d(deepgrad.randn(1, 1, 3, 3), deepgrad.randn(2, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"spanning \(5, 5\) with dilation \(2, 2\)"):
        F.conv2d(deepgrad.randn(1, 1, 4, 4), deepgrad.randn(2, 1, 3, 3), dilation=2)


def test_conv2d_bad_settings() -> None:
    x, w = deepgrad.randn(1, 2, 5, 5), deepgrad.randn(2, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: stride must be >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: padding='same' is not supported for strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: padding must be"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(RuntimeError, match=r"conv2d: bias shape \(3,\) does not match "
                                           r"out_channels \(2,\)"):
        F.conv2d(x, w, deepgrad.randn(3))
    with pytest.raises(TypeError, match=r"conv2d: input dtype float64 and weight dtype float32"):
        F.conv2d(x.double(), w)


@st.composite
def conv_configs(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 2]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), 9))
    return {"n": draw(st.integers(1, 3)), "c": groups * draw(st.integers(1, 3)),
            "o": groups * draw(st.integers(1, 3)), "hw": (h, w), "k": (kh, kw),
            "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))), "padding": padding,
            "dilation": dilation, "groups": groups, "bias": draw(st.booleans()),
            "seed": draw(st.integers(0, 2**16))}


@settings(max_examples=60, deadline=None)
@given(cfg=conv_configs())
def test_conv2d_matches_torch_for_any_geometry(cfg: dict[str, Any]) -> None:
    """Forward and all gradients agree with torch (float32) over random geometries; both
    patch layouts are reached (channels-first when kw*C < Wo)."""
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"])).astype(np.float32)
    w = rng.standard_normal((cfg["o"], cfg["c"] // cfg["groups"], *cfg["k"])).astype(np.float32)
    b = rng.standard_normal(cfg["o"]).astype(np.float32) if cfg["bias"] else None
    kw = {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}
    ours = [deepgrad.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    out, t_out = F.conv2d(*ours, **kw), tF.conv2d(*theirs, **kw)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(deepgrad.tensor(g))
    t_out.backward(torch.tensor(g))
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("c", "o", "k", "p"), [(1, 8, 5, 2), (8, 6, 3, 1), (4, 4, 3, "same")])
def test_inference_in_chunks_equals_one_call(monkeypatch, c, o, k, p) -> None:
    import deepgrad.ops.conv as conv_module

    rng = np.random.default_rng(0)
    x = deepgrad.tensor(rng.standard_normal((7, c, 9, 9)).astype(np.float32))
    w = deepgrad.tensor(rng.standard_normal((o, c, k, k)).astype(np.float32))
    b = deepgrad.tensor(rng.standard_normal(o).astype(np.float32))
    with deepgrad.no_grad():
        whole = F.conv2d(x, w, b, padding=p).numpy()
        monkeypatch.setattr(conv_module, "INFERENCE_PATCH_BYTES", 1)  # one sample per chunk
        chunked = F.conv2d(x, w, b, padding=p)
    assert chunked.shape == whole.shape
    np.testing.assert_allclose(chunked.numpy(), whole, rtol=1e-5, atol=1e-5)  # GEMM blocking
