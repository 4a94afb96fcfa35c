"""deepgrad: deep learning from first principles, on NumPy, shaped like PyTorch.

``import deepgrad as torch`` runs most course code unchanged: tensors with
reverse-mode autograd, ``deepgrad.nn``, ``deepgrad.optim``, ``deepgrad.data``,
and the lab (``deepgrad.lab``) that trains, records and shows experiments.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from deepgrad.backend import (
    get_rng_state,
    initial_seed,
    manual_seed,
    set_default_dtype,
    set_rng_state,
)
from deepgrad.tensor import Tensor, _attach_ops, from_numpy, is_tensor, tensor

_attach_ops()

from deepgrad import accelerator, backends, cuda  # noqa: E402
from deepgrad.denormal import set_flush_denormal  # noqa: E402
from deepgrad.devices import device, get_default_device, set_default_device  # noqa: E402
from deepgrad.grad_mode import inference_mode, is_inference_mode_enabled  # noqa: E402
from deepgrad.gradcheck import gradcheck, gradgradcheck  # noqa: E402
from deepgrad.ops.activation import relu, sigmoid, tanh  # noqa: E402
from deepgrad.ops.creation import (  # noqa: E402
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from deepgrad.ops.elementwise import (  # noqa: E402  # noqa: E402
    abs,
    add,
    allclose,
    ceil,
    clamp,
    clip,
    cos,
    div,
    eq,
    equal,
    exp,
    fix,
    floor,
    floor_divide,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    log2,
    log10,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    remainder,
    round,
    rsqrt,
    sign,
    sin,
    sqrt,
    square,
    sub,
    trunc,
    where,
)
from deepgrad.ops.functions import *  # noqa: E402, F403 - torch's composite functions
from deepgrad.ops.histogram import histc, histogram  # noqa: E402
from deepgrad.ops.indexing import (  # noqa: E402
    argwhere,
    diag,
    flip,
    fliplr,
    flipud,
    gather,
    index_select,
    masked_select,
    meshgrid,
    movedim,
    narrow,
    nonzero,
    roll,
    scatter,
    scatter_add,
    select,
    swapaxes,
    take_along_dim,
    tril,
    triu,
    unbind,
)
from deepgrad.ops.linalg import addmm, bmm, dot, einsum, ger, matmul, mm, norm, outer, trace  # noqa: E402  # noqa: E402
from deepgrad.ops.linalg import mv as mv  # noqa: E402
from deepgrad.ops.logical import all, any  # noqa: E402
from deepgrad.ops.loss import log_softmax, softmax  # noqa: E402
from deepgrad.ops.maths import (  # noqa: E402
    acos,
    acosh,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cosh,
    erf,
    exp2,
    expm1,
    frac,
    hypot,
    isclose,
    isinf,
    lerp,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    reciprocal,
    sinh,
    tan,
)
from deepgrad.ops.reduce import (  # noqa: E402
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from deepgrad.ops.sampling import bernoulli, multinomial, normal  # noqa: E402
from deepgrad.ops.shape import (  # noqa: E402
    cat,
    chunk,
    concatenate,
    expand,
    flatten,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unflatten,
    unsqueeze,
)
from deepgrad.ops.sorting import (  # noqa: E402
    argsort,
    count_nonzero,
    cumprod,
    cumsum,
    kthvalue,
    prod,
    sort,
    topk,
    unique,
)
from deepgrad.random import Generator, seed  # noqa: E402
from deepgrad.size import Size  # noqa: E402
from deepgrad.tensor import as_tensor  # noqa: E402
from deepgrad.tensor_str import get_printoptions, printoptions, set_printoptions  # noqa: E402
from deepgrad.threads import get_num_threads, set_num_threads  # noqa: E402


def _with_out() -> None:
    """torch's functions take ``out=``; the Tensor methods (the same ops) need not."""
    from deepgrad.ops.out_arg import accepts_out

    names = ("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "abs", "neg", "sin",
             "cos", "tanh", "sigmoid", "maximum", "minimum", "clamp", "where", "sum", "mean",
             "cat", "stack", "cumsum", "prod", "einsum", "outer", "gather", "remainder",
             "floor_divide", "square", "rsqrt", "reciprocal")
    for name in names:
        globals()[name] = accepts_out(globals()[name])


_with_out()


def _in_place_functions() -> None:
    """torch's functional in-place forms: ``torch.sin_(x)`` is ``x.sin_()``."""
    from deepgrad.ops.inplace import INPLACE_METHODS

    for name in ("neg_", "abs_", "exp_", "log_", "sqrt_", "rsqrt_", "square_", "sin_",
                 "cos_", "reciprocal_", "log1p_", "expm1_", "floor_", "ceil_", "round_",
                 "trunc_", "sign_", "relu_", "sigmoid_", "tanh_", "clamp_", "clip_", "zero_",
                 "fill_"):
        globals()[name] = INPLACE_METHODS[name]


_in_place_functions()


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def clone(input: Tensor) -> Tensor:  # noqa: A002
    return input.clone()


float32 = backend.float32
float64 = backend.float64
float = backend.float32  # noqa: A001 - torch's alias
double = backend.float64
int64 = backend.int64
long = backend.int64
int32 = backend.int32
uint8 = backend.uint8
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
float16 = half = np.dtype(np.float16)
bool = backend.bool_  # noqa: A001 - torch's alias

from deepgrad.tensor_types import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)

__version__ = "0.1.0"

_LAZY_MODULES = ("nn", "optim", "data", "lab", "viz", "serialization", "utils", "functional",
                 "linalg", "onnx")
_LAZY_NAMES = {
    "save": "deepgrad.serialization",
    "load": "deepgrad.serialization",
    "summary": "deepgrad.nn.summary",
}


def __getattr__(name: str) -> Any:
    """Import the heavier subpackages on first use (``deepgrad.nn``, ``deepgrad.lab``...)."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"deepgrad.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'deepgrad' has no attribute {name!r}")
