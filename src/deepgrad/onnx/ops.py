"""The mapping table: each deepgrad op (a ``Function`` class, by name) to ONNX nodes.

A converter reads the op's arguments through ``Step`` (see ``step``): tensor inputs by
position (``s.value(0)``), attributes by their forward parameter name (``s.attr("stride")``),
never the arrays an op saves for its backward. ``OPS`` is the whole table; an op not in
it is refused with ``UnsupportedOpError`` naming it (see ``export``). docs/onnx.md lists
the table in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from deepgrad.onnx.step import Converter, Step, array_of
from deepgrad.onnx.trace import OpCall

INT64_MAX = np.iinfo(np.int64).max

OPS: dict[str, Converter] = {}


def maps(*names: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for name in names:
            OPS[name] = fn
        return fn
    return register


def onnx_dtype(s: Step, dtype: np.dtype) -> int:
    return int(s.g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


# ---- elementwise ------------------------------------------------------------------------

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min"}


@maps(*_BINARY)
def binary(s: Step) -> str:
    assert s.first.name in _BINARY
    return s.g.op(_BINARY[s.first.name], s.value(0), s.value(1))


_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sin": "Sin",
          "Cos": "Cos", "ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh",
          "Clone": "Identity"}


@maps(*_UNARY)
def unary(s: Step) -> str:
    return s.g.op(_UNARY[s.first.name], s.value(0))


@maps("PowScalar")
def pow_scalar(s: Step) -> str:
    return s.g.op("Pow", s.value(0), s.scalar(float(s.attr("exponent"))))


@maps("RPowScalar")
def rpow_scalar(s: Step) -> str:
    return s.g.op("Pow", s.scalar(float(s.attr("base"))), s.value(0))


@maps("Cast")
def cast(s: Step) -> str:
    return s.g.op("Cast", s.value(0), to=onnx_dtype(s, s.out_dtype))


@maps("Clamp")
def clamp(s: Step) -> str:
    dtype = s.dtype(0)
    lo, hi = s.attr("min"), s.attr("max")
    bounds = ["" if b is None else s.g.const(np.asarray(b, dtype=dtype), base="clip")
              for b in (lo, hi)]
    if any(b is not None and np.ndim(b) for b in (lo, hi)):  # tensor bounds: Max/Min
        x = s.value(0)
        if lo is not None:
            x = s.g.op("Max", x, bounds[0])
        return s.g.op("Min", x, bounds[1]) if hi is not None else x
    return s.g.op("Clip", s.value(0), *bounds)


@maps("Where")
def where(s: Step) -> str:
    return s.g.op("Where", s.value(0), s.value(1), s.value(2))


_ROUNDING = {"floor": "Floor", "ceil": "Ceil", "round": "Round", "sign": "Sign"}


@maps("Rounding")
def rounding(s: Step) -> str:
    fn = s.attr("fn")
    name = getattr(fn, "__name__", "")
    if name in _ROUNDING:
        return s.g.op(_ROUNDING[name], s.value(0))
    if name == "trunc":  # no Trunc in ONNX: sign(x) * floor(|x|)
        x = s.value(0)
        return s.g.op("Mul", s.g.op("Sign", x), s.g.op("Floor", s.g.op("Abs", x)))
    raise s.fail(f"rounding by {name or fn!r} (round with decimals) has no ONNX mapping")


_MATH = {"tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh",
         "cosh": "Cosh", "asinh": "Asinh", "acosh": "Acosh", "atanh": "Atanh", "erf": "Erf",
         "reciprocal": "Reciprocal"}


@maps("MathUnary")
def math_unary(s: Step) -> str:
    name = s.attr("name")
    x = s.value(0)
    if name in _MATH:
        return s.g.op(_MATH[name], x)
    if name == "log1p":
        return s.g.op("Log", s.g.op("Add", x, s.scalar(1.0)))
    if name == "expm1":
        return s.g.op("Sub", s.g.op("Exp", x), s.scalar(1.0))
    if name == "exp2":
        return s.g.op("Pow", s.scalar(2.0), x)
    raise s.fail(f"the elementwise function {name!r} has no ONNX mapping")


# ---- activations ------------------------------------------------------------------------

@maps("Hardtanh")
def hardtanh(s: Step) -> str:
    dtype = s.dtype(0)
    return s.g.op("Clip", s.value(0), s.g.const(np.asarray(s.attr("lo"), dtype)),
                  s.g.const(np.asarray(s.attr("hi"), dtype)))


@maps("LeakyReLU")
def leaky_relu(s: Step) -> str:
    return s.g.op("LeakyRelu", s.value(0), alpha=float(s.attr("slope")))


@maps("ELU")
def elu(s: Step) -> str:
    """ELU, and SELU (an ELU scaled by ``scale``): ONNX ``Selu`` is ``gamma * elu(x, alpha)``."""
    alpha, scale = float(s.attr("alpha")), float(s.attr("scale"))
    if scale == 1.0:
        return s.g.op("Elu", s.value(0), alpha=alpha)
    return s.g.op("Selu", s.value(0), alpha=alpha, gamma=scale)


@maps("Softplus")
def softplus(s: Step) -> str:
    """torch's ``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    beta, threshold = float(s.attr("beta")), float(s.attr("threshold"))
    x = s.value(0)
    bx = x if beta == 1.0 else s.g.op("Mul", x, s.scalar(beta))
    soft = s.g.op("Softplus", bx)
    if beta != 1.0:
        soft = s.g.op("Div", soft, s.scalar(beta))
    return s.g.op("Where", s.g.op("Greater", bx, s.scalar(threshold)), x, soft)


@maps("GELU")
def gelu(s: Step) -> str:
    approximate = s.attr("approximate")
    x = s.value(0)
    if s.g.opset >= 20:
        return s.g.op("Gelu", x, approximate=str(approximate))
    half_x = s.g.op("Mul", x, s.scalar(0.5))
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = s.g.op("Mul", s.g.op("Mul", x, x), x)
        inner = s.g.op("Add", x, s.g.op("Mul", cube, s.scalar(0.044715)))
        t = s.g.op("Tanh", s.g.op("Mul", inner, s.scalar(math.sqrt(2.0 / math.pi))))
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = s.g.op("Erf", s.g.op("Div", x, s.scalar(math.sqrt(2.0))))
    return s.g.op("Mul", half_x, s.g.op("Add", t, s.scalar(1.0)))


@maps("Softmax")
def softmax(s: Step) -> str:
    return s.g.op("Softmax", s.value(0), axis=int(s.attr("axis")))


@maps("LogSoftmax")
def log_softmax(s: Step) -> str:
    return s.g.op("LogSoftmax", s.value(0), axis=int(s.attr("axis")))


@maps("Dropout")
def dropout(s: Step) -> str:
    raise s.fail("dropout ran in training mode; export calls model.eval() first, so this "
                 "dropout is called with training=True explicitly (F.dropout(x, p, True)); "
                 "pass training=self.training")


# ---- linear layers ------------------------------------------------------------------------

@maps("Linear")
def linear(s: Step) -> str:
    x, w, b = s.value(0), s.value(1), s.value(2)
    if s.ndim(0) == 2:
        inputs = [x, w] + ([b] if b else [])
        return s.g.op("Gemm", *inputs, transB=1)
    y = s.g.op("MatMul", x, s.g.op("Transpose", w, perm=[1, 0]))
    return s.g.op("Add", y, b) if b else y


@maps("MatMul")
def matmul(s: Step) -> str:
    return s.g.op("MatMul", s.value(0), s.value(1))


@maps("Conv2d")
def conv2d(s: Step) -> str:
    top, bottom, left, right = (int(p) for p in s.attr("padding"))
    kernel = list(s.shape(1)[2:])
    inputs = [s.value(0), s.value(1)]
    if s.arg(2) is not None:
        inputs.append(s.value(2))
    return s.g.op("Conv", *inputs, kernel_shape=kernel,
                  strides=[int(v) for v in s.attr("stride")],
                  pads=[top, left, bottom, right],
                  dilations=[int(v) for v in s.attr("dilation")],
                  group=int(s.attr("groups")))


# ---- pooling ------------------------------------------------------------------------------

def _pool_window(s: Step) -> tuple[list[int], list[int], list[int], list[int], int]:
    """kernel, strides, pads (ONNX order), dilations and ceil_mode of a pooling call: the
    window is ``(kernel, stride, padding, dilation)``; ceil mode is read off the output size."""
    kernel, stride, pad, dil = (tuple(int(v) for v in part) for part in s.attr("win"))
    out_hw = tuple(int(v) for v in s.attr("out_hw"))
    h, w = s.shape(0)[2:]
    floor_hw = tuple((size + 2 * p - d * (k - 1) - 1) // st + 1
                     for size, k, st, p, d in zip((h, w), kernel, stride, pad, dil, strict=True))
    ceil_mode = int(out_hw != floor_hw)
    return list(kernel), list(stride), [pad[0], pad[1], pad[0], pad[1]], list(dil), ceil_mode


@maps("MaxPool2d")
def max_pool2d(s: Step) -> str:
    kernel, strides, pads, dil, ceil_mode = _pool_window(s)
    return s.g.op("MaxPool", s.value(0), kernel_shape=kernel, strides=strides, pads=pads,
                  dilations=dil if dil != [1, 1] else None, ceil_mode=ceil_mode)


def _counts(size: int, k: int, st: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    starts = np.arange(out) * st - p
    ends = np.minimum(starts + k, size + p)
    if not include_pad:
        starts, ends = np.maximum(starts, 0), np.minimum(ends, size)
    return (ends - starts).astype(np.float64)


@maps("AvgPool2d")
def avg_pool2d(s: Step) -> str:
    """The op carries its divisor as ``scale``: one number (every window full, or
    ``divisor_override``) or one per output pixel (padding left out of the count)."""
    kernel, strides, pads, _, ceil_mode = _pool_window(s)
    scale = np.asarray(s.attr("scale"), dtype=np.float64)
    area = kernel[0] * kernel[1]
    attrs = dict(kernel_shape=kernel, strides=strides, pads=pads, ceil_mode=ceil_mode)
    if scale.ndim == 0:
        out = s.g.op("AveragePool", s.value(0), count_include_pad=1, **attrs)
        if not math.isclose(float(scale) * area, 1.0, rel_tol=1e-6):  # divisor_override
            out = s.g.op("Mul", out, s.scalar(float(scale) * area))
        return out
    h, w = s.shape(0)[2:]
    ho, wo = s.attr("out_hw")
    for include in (False, True):
        counts = np.outer(_counts(h, kernel[0], strides[0], pads[0], ho, include),
                          _counts(w, kernel[1], strides[1], pads[1], wo, include))
        if np.allclose(1.0 / counts, scale, rtol=1e-6):
            return s.g.op("AveragePool", s.value(0), count_include_pad=int(include), **attrs)
    raise s.fail("average pooling with this divisor (ceil_mode windows counting padding) has "
                 "no ONNX AveragePool equivalent")


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out)."""
    m = np.zeros((out, size), dtype=np.float64)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m.astype(dtype)


@maps("AdaptiveAvgPool2d")
def adaptive_avg_pool2d(s: Step) -> str:
    """Uneven adaptive windows as two matrix products: ``A_h @ x @ A_w^T``."""
    h, w = s.shape(0)[2:]
    ho, wo = (int(v) for v in s.attr("out_hw"))
    dtype = s.dtype(0)
    rows = s.g.const(_adaptive_matrix(h, ho, dtype), base="rows")
    cols = s.g.const(_adaptive_matrix(w, wo, dtype).T, base="cols")
    return s.g.op("MatMul", rows, s.g.op("MatMul", s.value(0), cols))


# ---- normalisation and lookup -------------------------------------------------------------

@maps("BatchNorm")
def batch_norm(s: Step) -> str:
    if s.attr("batch_stats"):
        raise s.fail("batch norm uses the batch's own statistics (training mode, or "
                     "track_running_stats=False); ONNX export needs running statistics: "
                     "call model.eval() on a layer that tracks them")
    channels = s.shape(0)[1]
    dtype = s.dtype(0)
    scale = s.value(1) if s.arg(1) is not None else s.g.const(np.ones(channels, dtype), base="ones")
    bias = s.value(2) if s.arg(2) is not None else s.g.const(np.zeros(channels, dtype),
                                                            base="zeros")
    mean, var = s.value("running_mean", dtype), s.value("running_var", dtype)
    return s.g.op("BatchNormalization", s.value(0), scale, bias, mean, var,
                  epsilon=float(s.attr("eps")))


@maps("LayerNorm")
def layer_norm(s: Step) -> str:
    k, eps = int(s.attr("k")), float(s.attr("eps"))
    x = s.value(0)
    shape, dtype = s.shape(0)[-k:], s.dtype(0)
    weight = s.value(1) if s.arg(1) is not None else s.g.const(np.ones(shape, dtype), base="ones")
    bias = s.value(2) if s.arg(2) is not None else ""
    if s.g.opset >= 17:
        inputs = [x, weight] + ([bias] if bias else [])
        return s.g.op("LayerNormalization", *inputs, axis=-k, epsilon=eps)
    axes = list(range(s.ndim(0) - k, s.ndim(0)))
    centered = s.g.op("Sub", x, s.g.reduce("ReduceMean", x, axes, True))
    var = s.g.reduce("ReduceMean", s.g.op("Mul", centered, centered), axes, True)
    y = s.g.op("Div", centered, s.g.op("Sqrt", s.g.op("Add", var, s.scalar(eps))))
    y = s.g.op("Mul", y, weight)
    return s.g.op("Add", y, bias) if bias else y


@maps("Embedding")
def embedding(s: Step) -> str:
    return s.g.op("Gather", s.value(0), s.value("ids"), axis=0)


# ---- reductions ---------------------------------------------------------------------------

_REDUCE = {"Sum": "ReduceSum", "Mean": "ReduceMean", "LogSumExp": "ReduceLogSumExp"}


@maps(*_REDUCE)
def reduce(s: Step) -> str:
    axes = s.attr("axes")
    return s.g.reduce(_REDUCE[s.first.name], s.value(0), axes, bool(s.attr("keepdim")))


@maps("MaxMin")
def max_min(s: Step) -> str:
    op = "ReduceMax" if s.attr("largest") else "ReduceMin"
    return s.g.reduce(op, s.value(0), s.attr("axes"), bool(s.attr("keepdim")))


@maps("MaxMinDim")
def max_min_dim(s: Step) -> str:
    """The values of ``max(dim)``/``min(dim)``. The op gets its indices precomputed, so which
    of the two it is is read off the recorded output."""
    dim, keepdim = int(s.attr("dim")), bool(s.attr("keepdim"))
    x = array_of(s.arg(0))
    out = array_of(s.first.out)
    largest = np.array_equal(np.max(x, axis=dim, keepdims=keepdim), out)
    return s.g.reduce("ReduceMax" if largest else "ReduceMin", s.value(0), [dim], keepdim)


@maps("Var")
def var(s: Step) -> str:
    axes = s.attr("axes")
    shape, varying = s.shape(0), s.varying(0)
    dims = range(len(shape)) if axes is None else axes
    if any(varying[a] for a in dims):
        raise s.fail("the variance reduces over a dynamic axis (its count changes with the "
                     "batch); reduce over the other axes, or export without that dynamic axis")
    count = math.prod(shape[a] for a in dims) - int(s.attr("correction"))
    x = s.value(0)
    centered = s.g.op("Sub", x, s.g.reduce("ReduceMean", x, axes, True))
    total = s.g.reduce("ReduceSum", s.g.op("Mul", centered, centered), axes,
                       bool(s.attr("keepdim")))
    return s.g.op("Div", total, s.scalar(float(count)))


# ---- shapes -------------------------------------------------------------------------------

@maps("Reshape")
def reshape(s: Step) -> str:
    """The target shape with the dims that follow the dynamic axes made symbolic: 0 ("the
    input's dim") where one stays in place, -1 for a single other one, and sizes read from
    the graph inputs when there are more."""
    out, varying = list(s.out_shape), s.out_varying()
    dynamic = [i for i, v in enumerate(varying) if v]
    if len(dynamic) > 1 and 0 not in out:
        in_shape, in_varying = s.shape(0), s.varying(0)
        for i in list(dynamic):
            if i < len(in_shape) and in_varying[i] and in_shape[i] == out[i]:
                out[i] = 0
                dynamic.remove(i)
    if len(dynamic) <= 1:
        if dynamic:
            out[dynamic[0]] = -1
        return s.g.op("Reshape", s.value(0), s.g.ints(out))
    assert isinstance(s.second, OpCall)
    second = list(s.second.out.shape)
    still = [i in dynamic for i in range(len(out))]
    shape = s.shape_value(out, still, second, f"the reshape to {tuple(s.out_shape)}")
    return s.g.op("Reshape", s.value(0), shape)


@maps("Permute")
def permute(s: Step) -> str:
    return s.g.op("Transpose", s.value(0), perm=[int(d) for d in s.attr("dims")])


@maps("Expand")
def expand(s: Step) -> str:
    """A dynamic dim the input has keeps it (Expand broadcasts a 1); one stretched to a
    dynamic size reads that size from the graph input it follows."""
    out, varying = list(s.out_shape), s.out_varying()
    second = list(s.second.out.shape) if isinstance(s.second, OpCall) else out
    in_shape, in_varying = s.shape(0), s.varying(0)
    offset = len(out) - len(in_shape)
    stretched = list(varying)
    for i, v in enumerate(varying):
        if v and i >= offset and in_varying[i - offset]:
            out[i], stretched[i] = 1, False
    return s.g.op("Expand", s.value(0), s.shape_value(out, stretched, second,
                                                      f"expanding to {tuple(s.out_shape)}"))


@maps("Repeat")
def repeat(s: Step) -> str:
    repeats = [int(r) for r in s.attr("repeats")]
    x = s.value(0)
    extra = len(repeats) - s.ndim(0)
    if extra:
        x = s.g.unsqueeze(x, list(range(extra)))
    return s.g.op("Tile", x, s.g.ints(repeats, "repeats"))


@maps("Cat")
def cat(s: Step) -> str:
    count = len(s.first.args)
    return s.g.op("Concat", *(s.value(i) for i in range(count)), axis=int(s.attr("dim")))


@maps("Stack")
def stack(s: Step) -> str:
    axis = int(s.attr("dim"))
    parts = [s.g.unsqueeze(s.value(i), [axis]) for i in range(len(s.first.args))]
    return s.g.op("Concat", *parts, axis=axis)


@maps("Pad")
def pad(s: Step) -> str:
    widths = [(int(lo), int(hi)) for lo, hi in s.attr("widths")]
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    value = s.g.const(np.asarray(s.attr("value"), dtype=s.dtype(0)), base="pad_value")
    return s.g.op("Pad", s.value(0), s.g.ints(pads, "pads"), value, mode="constant")


@maps("GetItem")
def getitem(s: Step) -> str:
    """Basic indexing (ints, slices, None, ...) as Slice + Squeeze + Unsqueeze; one integer
    array (or a constant bool mask) on one axis as Gather."""
    index = s.attr_pair("index")[0]
    items = list(index) if isinstance(index, tuple) else [index]
    ndim = s.ndim(0)
    arrays = [i for i, item in enumerate(items) if isinstance(item, (np.ndarray, list))]
    if arrays:
        return _gather_index(s, items, arrays, ndim)
    s.attr("index")  # basic indices must not follow the batch
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (ndim - consumed)
    items += [slice(None)] * (ndim - sum(1 for item in items if item is not None))
    starts: list[int] = []
    ends: list[int] = []
    axes: list[int] = []
    steps: list[int] = []
    squeeze: list[int] = []
    unsqueeze: list[int] = []
    axis = out_pos = 0
    for item in items:
        if item is None:
            unsqueeze.append(out_pos)
            out_pos += 1
            continue
        if isinstance(item, slice):
            start, stop, step = item.start, item.stop, item.step
            step = 1 if step is None else int(step)
            if start is None:
                start = 0 if step > 0 else -1
            if stop is None:
                stop = INT64_MAX if step > 0 else -INT64_MAX
            if (start, stop, step) != (0, INT64_MAX, 1):
                starts.append(int(start))
                ends.append(int(stop))
                axes.append(axis)
                steps.append(step)
            out_pos += 1
        else:  # an int
            i = int(item)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    x = s.value(0)
    if axes:
        x = s.g.op("Slice", x, s.g.ints(starts, "starts"), s.g.ints(ends, "ends"),
                   s.g.ints(axes, "axes"), s.g.ints(steps, "steps"))
    if squeeze:
        x = s.g.squeeze(x, squeeze)
    if unsqueeze:
        x = s.g.unsqueeze(x, unsqueeze)
    if x == s.value(0):
        x = s.g.op("Identity", x)
    return x


def _gather_index(s: Step, items: list[object], arrays: list[int], ndim: int) -> str:
    if len(arrays) != 1 or any(not (isinstance(item, slice) and item == slice(None))
                               for i, item in enumerate(items) if i != arrays[0]
                               and item is not Ellipsis):
        raise s.fail("indexing with several index arrays, or an index array mixed with "
                     "slices, has no ONNX mapping here; use index_select or one array")
    at = arrays[0]
    axis = at if Ellipsis not in items[:at] else ndim - (len(items) - at)
    pair = s.attr_pair("index")
    first, second = (p[at] if isinstance(p, tuple) else p for p in pair)
    first, second = np.asarray(first), np.asarray(second)
    if first.dtype == np.bool_:
        if first.ndim != 1 or not np.array_equal(first, second):
            raise s.fail("indexing with a boolean mask computed from the input has no "
                         "static ONNX mapping (its result's size depends on the values)")
        return s.g.op("Gather", s.value(0), s.g.ints(np.flatnonzero(first), "indices"),
                      axis=axis)
    indices = s.value_of(first, second, "index")
    return s.g.op("Gather", s.value(0), indices, axis=axis)


# ---- indexing, scans and products ---------------------------------------------------------

@maps("IndexSelect")
def index_select(s: Step) -> str:
    return s.g.op("Gather", s.value(0), s.value("index"), axis=int(s.attr("axis")))


@maps("Gather")
def gather(s: Step) -> str:
    """torch.gather; an index smaller than the input in the other dims reads its leading part."""
    axis = int(s.attr("axis"))
    x, index_shape = s.value(0), s.shape("index")
    if any(i != n for d, (i, n) in enumerate(zip(index_shape, s.shape(0), strict=True))
           if d != axis):
        x = s.g.op("Slice", x, s.g.ints([0] * len(index_shape), "starts"),
                   s.g.ints([n if d != axis else INT64_MAX for d, n in enumerate(index_shape)],
                            "ends"))
    return s.g.op("GatherElements", x, s.value("index"), axis=axis)


@maps("Flip")
def flip(s: Step) -> str:
    axes = [int(a) for a in s.attr("axes")]
    return s.g.op("Slice", s.value(0), s.g.ints([-1] * len(axes), "starts"),
                  s.g.ints([-INT64_MAX] * len(axes), "ends"), s.g.ints(axes, "axes"),
                  s.g.ints([-1] * len(axes), "steps"))


@maps("Triangle")
def triangle(s: Step) -> str:
    """tril/triu: the op carries its (rows, cols) mask of kept entries."""
    zero = s.scalar(0.0, s.dtype(0))
    return s.g.op("Where", s.g.const(np.asarray(s.attr("keep"), dtype=bool), base="keep"),
                  s.value(0), zero)


@maps("CumSum")
def cumsum(s: Step) -> str:
    return s.g.op("CumSum", s.value(0), s.g.const(np.asarray(int(s.attr("axis")), np.int64),
                                                  base="axis"))


@maps("Prod")
def prod(s: Step) -> str:
    axis = s.attr("axis")
    return s.g.reduce("ReduceProd", s.value(0), None if axis is None else [int(axis)],
                      bool(s.attr("keepdim")))


@maps("Einsum")
def einsum(s: Step) -> str:
    inputs, output = s.attr("inputs"), s.attr("output")
    operands = [s.value(i) for i in range(len(s.first.args))]
    return s.g.op("Einsum", *operands, equation=",".join(inputs) + "->" + output)
