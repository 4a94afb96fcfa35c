"""More elementwise maths: trigonometric and hyperbolic functions, erf, atan2, lerp, hypot,
frac, exp2, logical ops and isclose, as torch's functions and Tensor methods.

Each differentiable unary function is its forward and its derivative (from the input and
the output), written once in ``UNARY``; ``MathUnary`` is the one Function that runs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.ops.elementwise import _binary, _cast, unbroadcast
from deepgrad.tensor import Tensor, as_array


def _erf(x: Any) -> Any:
    from deepgrad.ops.activation import _erf as erf_impl

    return erf_impl(x)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# name: (forward, derivative(x, out))
UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = {
    "tan": (np.tan, lambda x, out: 1 + out * out),
    "asin": (np.arcsin, lambda x, out: 1 / dual.sqrt(1 - x * x)),
    "acos": (np.arccos, lambda x, out: -1 / dual.sqrt(1 - x * x)),
    "atan": (np.arctan, lambda x, out: 1 / (1 + x * x)),
    "sinh": (np.sinh, lambda x, out: dual.cosh(x)),
    "cosh": (np.cosh, lambda x, out: dual.sinh(x)),
    "asinh": (np.arcsinh, lambda x, out: 1 / dual.sqrt(x * x + 1)),
    "acosh": (np.arccosh, lambda x, out: 1 / dual.sqrt(x * x - 1)),
    "atanh": (np.arctanh, lambda x, out: 1 / (1 - x * x)),
    "erf": (_erf, lambda x, out: _TWO_OVER_SQRT_PI * dual.exp(-x * x)),
    "exp2": (np.exp2, lambda x, out: out * math.log(2.0)),
    "frac": (lambda x: x - np.trunc(x), lambda x, out: np.ones_like(dual.value(x))),
    "log1p": (np.log1p, lambda x, out: 1 / (1 + x)),
    "expm1": (np.expm1, lambda x, out: out + 1),
    "reciprocal": (np.reciprocal, lambda x, out: -out * out),
}


class MathUnary(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, name: str) -> Any:
        fn, _ = UNARY[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(fn(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.op = name
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        _, derivative = UNARY[ctx.op]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dual.astype(grad * derivative(x, out), grad.dtype),)

    @classmethod
    def named(cls, name: str) -> Callable[[Tensor], Tensor]:
        def op(input: Tensor) -> Tensor:  # noqa: A002
            if not isinstance(input, Tensor):
                input = Tensor(as_array(input), _copy=False)
            if input.dtype.kind in "iub":
                input = _cast(input, backend.default_float_dtype())
            return cls.apply(input, name=name)

        op.__name__ = name
        op.__doc__ = f"Elementwise ``{name}``, differentiable."
        return op


tan = MathUnary.named("tan")
asin = arcsin = MathUnary.named("asin")
acos = arccos = MathUnary.named("acos")
atan = arctan = MathUnary.named("atan")
sinh = MathUnary.named("sinh")
cosh = MathUnary.named("cosh")
asinh = MathUnary.named("asinh")
acosh = MathUnary.named("acosh")
atanh = MathUnary.named("atanh")
erf = MathUnary.named("erf")
exp2 = MathUnary.named("exp2")
frac = MathUnary.named("frac")
log1p = MathUnary.named("log1p")
expm1 = MathUnary.named("expm1")
reciprocal = MathUnary.named("reciprocal")


class Atan2(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = unbroadcast(grad * b / denom, a.shape) if ctx.needs_input_grad[0] else None
            gb = unbroadcast(-grad * a / denom, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def atan2(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _binary(Atan2, "atan2", input, other)


arctan2 = atan2


def hypot(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    from deepgrad.ops.elementwise import add, mul, sqrt

    return sqrt(add(mul(input, input), mul(other, other)))


def lerp(input: Tensor, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``."""
    from deepgrad.ops.elementwise import add, mul, sub

    return add(input, mul(weight, sub(end, input)))


def _bools(x: Any) -> Any:
    array = x._array if isinstance(x, Tensor) else np.asarray(x)
    return array.astype(bool, copy=False)


def logical_and(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return Tensor(np.logical_and(_bools(input), _bools(other)), _copy=False)


def logical_or(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return Tensor(np.logical_or(_bools(input), _bools(other)), _copy=False)


def logical_xor(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return Tensor(np.logical_xor(_bools(input), _bools(other)), _copy=False)


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    return Tensor(np.logical_not(_bools(input)), _copy=False)


def _bitwise(ufunc: Any, name: str) -> Callable[[Tensor, Any], Tensor]:
    def op(input: Tensor, other: Any) -> Tensor:  # noqa: A002
        a = input._array
        b = other._array if isinstance(other, Tensor) else np.asarray(other)
        if a.dtype.kind not in "iub" or b.dtype.kind not in "iub":
            raise RuntimeError(f"{name}: only integer and bool tensors are supported, got "
                               f"{a.dtype} and {b.dtype}")
        return Tensor(np.asarray(ufunc(a, b)), _copy=False)

    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    if input.dtype.kind not in "iub":
        raise RuntimeError(f"bitwise_not: only integer and bool tensors, got {input.dtype}")
    return Tensor(np.invert(input._array), _copy=False)


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    b = other._array if isinstance(other, Tensor) else np.asarray(other)
    return Tensor(np.isclose(input._array, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
                  _copy=False)


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    return Tensor(np.isinf(input._array), _copy=False)
