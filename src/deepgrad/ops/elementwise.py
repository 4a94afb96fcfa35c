"""Elementwise ops: arithmetic, maths functions and comparisons.

Every binary backward passes its gradient through ``unbroadcast``: the backward
of copying a vector into 16 columns is the sum over those columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.tensor import Tensor, as_array


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = dual.sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)


def broadcast_shape(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape of two operands, or an error naming the op and both shapes."""
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a} and {b} cannot be broadcast together "
            f"(trailing dimensions must be equal or 1)"
        ) from None


def to_operand(value: Any, like: Tensor) -> Any:
    """A Tensor, or an array for a scalar/array operand, with torch's type promotion:
    a Python scalar takes the tensor's dtype (a float scalar with an integer tensor gives
    the default float)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.number)) and not isinstance(value, np.ndarray):
        if like.dtype.kind == "f" or (isinstance(value, (int, np.integer))
                                      and like.dtype.kind in "iub"):
            if isinstance(value, bool) and like.dtype.kind == "b":
                return backend.xp.asarray(value)
            return backend.xp.asarray(value, dtype=like.dtype if like.dtype.kind != "b"
                                      else backend.int64)
        return backend.xp.asarray(value, dtype=backend.default_float_dtype())
    return as_array(value)


def promote(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """Make a float op out of an integer and a float operand, as torch does (not float64)."""
    da = a.dtype
    db = b.dtype
    if da == db:
        return a, b
    if da.kind == "f" and db.kind in "iub":
        return a, _cast(b, da)
    if db.kind == "f" and da.kind in "iub":
        return _cast(a, db), b
    return a, b


def _cast(x: Any, dtype: Any) -> Any:
    if isinstance(x, Tensor):
        return Cast.apply(x, dtype=dtype) if x.requires_grad else Tensor(x._array.astype(dtype),
                                                                         _copy=False)
    return x.astype(dtype)


class Cast(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (dual.astype(grad, ctx.in_dtype),)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` as ``dtype``; differentiable into float dtypes only (an integer cast cuts the graph,
    as in torch)."""
    return Cast.apply(x, dtype=dtype)


class Clone(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (grad,)


class Add(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        sa, sb = ctx.shapes
        ga = unbroadcast(grad, sa) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        sa, sb = ctx.shapes
        ga = unbroadcast(grad, sa) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        ga = unbroadcast(grad * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        ga = unbroadcast(grad / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b`` for tensors; the exponent's gradient needs ``a > 0``."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                positive = dual.value(a) > 0
                log_a = dual.where(positive, dual.log(dual.where(positive, a, 1)), 0)
            gb = unbroadcast(grad * out * log_a, b.shape)
        return ga, gb


class PowScalar(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, exponent: float) -> Any:
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        if exponent == 2:
            return a * a
        return a**exponent

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return (grad * (2 * a),)
        return (grad * dual.astype(p * a ** (p - 1), a.dtype),)


class RPowScalar(Function):
    """``base ** a`` for a scalar base."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, base: float) -> Any:
        out = np.power(np.asarray(base, dtype=a.dtype), a)
        ctx.save_for_backward(out)
        ctx.log_base = float(np.log(base)) if base > 0 else float("nan")
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad * out * np.asarray(ctx.log_base, dtype=out.dtype),)


class Neg(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (-grad,)


class Exp(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad * out,)


class Log(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / a,)


class Rounding(Function):
    """floor/ceil/round/trunc/sign: piecewise constant, so the gradient is zero (as torch)."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, fn: Any) -> Any:
        return fn(a)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (dual.zeros_like(grad),)


class Sqrt(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (2 * out),)


class Abs(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return (grad * dual.sign(a),)


class Sin(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return (grad * dual.cos(a),)


class Cos(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return (-grad * dual.sin(a),)


class Clamp(Function):
    """Gradient flows where the input lies inside [min, max] (torch: bounds included)."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        mask = np.ones(a.shape, dtype=bool)
        if min is not None:
            mask &= a >= min
        if max is not None:
            mask &= a <= max
        ctx.save_for_backward(mask)
        return np.clip(a, min, max).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (mask,) = ctx.saved_tensors
        return (grad * mask,)


class Maximum(Function):
    """Elementwise max; ties share the gradient equally, as torch."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = (dual.value(v) for v in ctx.saved_tensors)  # only where each wins: constants
        wa = ((a > b) + 0.5 * (a == b)).astype(grad.dtype)
        ga = unbroadcast(grad * wa, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Minimum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = (dual.value(v) for v in ctx.saved_tensors)  # only where each wins: constants
        wa = ((a < b) + 0.5 * (a == b)).astype(grad.dtype)
        ga = unbroadcast(grad * wa, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Where(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        zero = np.zeros((), dtype=grad.dtype)
        ga = unbroadcast(dual.where(cond, grad, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(dual.where(cond, zero, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def _binary(fn: type[Function], name: str, a: Any, b: Any) -> Tensor:
    if not isinstance(a, Tensor):
        a = Tensor(to_operand(a, b), _copy=False)
    b = to_operand(b, a)
    a_shape = a._array.shape
    b_shape = b._array.shape if isinstance(b, Tensor) else b.shape
    if a_shape != b_shape:
        broadcast_shape(name, a_shape, b_shape)
    a, b = promote(name, a, b)
    return fn.apply(a, b)


def add(input: Any, other: Any, alpha: float = 1.0) -> Tensor:  # noqa: A002
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, "add", input, other)


def sub(input: Any, other: Any, alpha: float = 1.0) -> Tensor:  # noqa: A002
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, "sub", input, other)


def mul(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _binary(Mul, "mul", input, other)


def div(input: Any, other: Any, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """True division (integers give floats); ``rounding_mode`` "trunc" or "floor" rounds the
    quotient and, for integer inputs, keeps their dtype (as torch)."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found {rounding_mode!r}")
        a = input if isinstance(input, Tensor) else Tensor(to_operand(input, other), _copy=False)
        b = to_operand(other, a)
        b_array = b._array if isinstance(b, Tensor) else b
        if a.dtype.kind in "iub" and np.asarray(b_array).dtype.kind in "iub":
            fn = np.floor_divide if rounding_mode == "floor" else _trunc_divide
            return Tensor(np.asarray(fn(a._array, b_array)), _copy=False)
        quotient = div(a, b)
        return Rounding.apply(quotient, fn=np.floor if rounding_mode == "floor" else np.trunc)
    if isinstance(input, Tensor) and input.dtype.kind in "iub" and not (
        isinstance(other, Tensor) and other.dtype.kind == "f"
    ):
        input = _cast(input, backend.default_float_dtype())
    return _binary(Div, "div", input, other)


def _trunc_divide(a: Any, b: Any) -> Any:
    return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))


def floor_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    return div(input, other, rounding_mode="floor")


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Python's modulo (the sign of the divisor), as ``torch.remainder`` and ``%``."""
    return sub(input, mul(floor_divide(input, other), other))


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002
    if not isinstance(input, Tensor):
        return RPowScalar.apply(exponent, base=float(input))
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        return PowScalar.apply(input, exponent=exponent)
    return _binary(Pow, "pow", input, exponent)


def _unary(fn: type[Function]) -> Any:
    def op(input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            input = Tensor(as_array(input), _copy=False)
        if input.dtype.kind in "iub" and fn not in (Neg, Abs):
            input = _cast(input, backend.default_float_dtype())
        return fn.apply(input)

    op.__name__ = fn.__name__.lower()
    op.__doc__ = f"Elementwise {fn.__name__.lower()}, differentiable."
    return op


neg = _unary(Neg)
exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
abs = _unary(Abs)  # noqa: A001
sin = _unary(Sin)
cos = _unary(Cos)


def log2(input: Tensor) -> Tensor:  # noqa: A002
    return div(log(input), float(np.log(2.0)))


def log10(input: Tensor) -> Tensor:  # noqa: A002
    return div(log(input), float(np.log(10.0)))


def _rounding(name: str, fn: Any) -> Any:
    def op(input: Tensor) -> Tensor:  # noqa: A002
        if input.dtype.kind in "iub":
            return Tensor(np.array(input._array, copy=True), _copy=False)
        return Rounding.apply(input, fn=fn)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``; zero gradient, as torch."
    return op


floor = _rounding("floor", np.floor)
ceil = _rounding("ceil", np.ceil)
trunc = _rounding("trunc", np.trunc)
fix = trunc


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """Round half to even, as torch (and NumPy)."""
    if decimals == 0:
        return _rounding("round", np.round)(input)
    return _rounding("round", lambda a: np.round(a, decimals))(input)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``value`` where ``mask`` is True, ``input`` elsewhere (``mask`` broadcasts)."""
    m = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected mask to have dtype bool, got {m.dtype}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s)")
    v = value if isinstance(value, Tensor) else Tensor(to_operand(value, input), _copy=False)
    if v.dtype != input.dtype:
        v = _cast(v, input.dtype)
    shape = broadcast_shape("masked_fill", tuple(m.shape), input.shape)
    if shape != input.shape:
        raise RuntimeError(f"masked_fill: the mask of shape {tuple(m.shape)} must broadcast to "
                           f"the input shape {tuple(input.shape)}")
    return Where.apply(m, v, input)


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    return pow(input, -0.5)


def square(input: Tensor) -> Tensor:  # noqa: A002
    return pow(input, 2)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    lo = min._array if isinstance(min, Tensor) else min
    hi = max._array if isinstance(max, Tensor) else max
    return Clamp.apply(input, min=lo, max=hi)


clip = clamp


def maximum(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _binary(Maximum, "maximum", input, other)


def minimum(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _binary(Minimum, "minimum", input, other)


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    cond = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        like = Tensor(as_array(input), _copy=False)
    a = input if isinstance(input, Tensor) else Tensor(to_operand(input, like), _copy=False)
    b = other if isinstance(other, Tensor) else Tensor(to_operand(other, like), _copy=False)
    a, b = promote("where", a, b)
    shape = broadcast_shape("where", a.shape, b.shape)
    broadcast_shape("where", cond.shape, shape)
    return Where.apply(cond, a, b)


def _compare(name: str, ufunc: Any) -> Any:
    def op(input: Tensor, other: Any) -> Tensor:  # noqa: A002
        o = other._array if isinstance(other, Tensor) else other
        x = input._array if isinstance(input, Tensor) else np.asarray(input)
        shape_o = np.shape(o)
        broadcast_shape(name, tuple(np.shape(x)), tuple(shape_o))
        return Tensor(ufunc(x, o), _copy=False)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison: a bool tensor, no gradient."
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)


def sign(input: Tensor) -> Tensor:  # noqa: A002
    return _rounding("sign", np.sign)(input)


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    return Tensor(np.isnan(input._array), _copy=False)


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    return Tensor(np.isfinite(input._array), _copy=False)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:  # noqa: A002
    return bool(np.allclose(input._array, other._array, rtol=rtol, atol=atol))


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    return input.shape == other.shape and bool((input._array == other._array).all())
