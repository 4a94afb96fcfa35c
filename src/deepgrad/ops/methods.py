"""Operators and methods of ``Tensor``, as thin calls into the ops (torch's names)."""

from __future__ import annotations

from typing import Any

from deepgrad.ops import (
    activation,
    elementwise,
    indexing,
    inplace,
    linalg,
    loss,
    maths,
    reduce,
    shape,
    sorting,
)
from deepgrad.ops import histogram as histograms
from deepgrad.ops import logical as logic
from deepgrad.ops import sampling as samples

E = elementwise


def _tensor_operand(other: Any, like: Any) -> Any:
    from deepgrad.tensor import Tensor

    return other if isinstance(other, Tensor) else Tensor(E.to_operand(other, like), _copy=False)


def _reflected(fn: Any) -> Any:
    """``other OP self`` for a scalar or array ``other`` (``2 - x``, ``arr @ x``)."""

    def method(self: Any, other: Any) -> Any:
        return fn(_tensor_operand(other, self), self)

    return method


def _rpow(self: Any, other: Any) -> Any:
    return E.pow(other, self)


def _size_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


METHODS: dict[str, Any] = {
    "__add__": E.add,
    "__radd__": lambda self, other: E.add(self, other),  # commutative: torch keeps self first
    "__sub__": E.sub,
    "__rsub__": _reflected(E.sub),
    "__mul__": E.mul,
    "__rmul__": lambda self, other: E.mul(self, other),
    "__truediv__": E.div,
    "__rtruediv__": _reflected(E.div),
    "__pow__": E.pow,
    "__rpow__": _rpow,
    "__matmul__": linalg.matmul,
    "__rmatmul__": _reflected(linalg.matmul),
    "__floordiv__": E.floor_divide,
    "__rfloordiv__": _reflected(E.floor_divide),
    "__mod__": E.remainder,
    "__rmod__": _reflected(E.remainder),
    "__neg__": E.neg,
    "__abs__": E.abs,
    "__eq__": E.eq,
    "__ne__": E.ne,
    "__lt__": E.lt,
    "__le__": E.le,
    "__gt__": E.gt,
    "__ge__": E.ge,
    "__getitem__": shape.getitem,
    "add": E.add,
    "sub": E.sub,
    "mul": E.mul,
    "div": E.div,
    "pow": E.pow,
    "neg": E.neg,
    "abs": E.abs,
    "exp": E.exp,
    "log1p": maths.log1p,
    "expm1": maths.expm1,
    "log2": E.log2,
    "log10": E.log10,
    "reciprocal": maths.reciprocal,
    "floor": E.floor,
    "ceil": E.ceil,
    "round": E.round,
    "trunc": E.trunc,
    "floor_divide": E.floor_divide,
    "remainder": E.remainder,
    "masked_fill": E.masked_fill,
    "norm": linalg.norm,
    "multiply": E.mul,
    "subtract": E.sub,
    "divide": E.div,
    "softmax": loss.softmax,
    "log_softmax": loss.log_softmax,
    "gather": indexing.gather,
    "take_along_dim": indexing.take_along_dim,
    "scatter": indexing.scatter,
    "scatter_add": indexing.scatter_add,
    "index_select": indexing.index_select,
    "masked_select": indexing.masked_select,
    "narrow": indexing.narrow,
    "select": indexing.select,
    "unbind": indexing.unbind,
    "flip": indexing.flip,
    "fliplr": indexing.fliplr,
    "flipud": indexing.flipud,
    "roll": indexing.roll,
    "tril": indexing.tril,
    "triu": indexing.triu,
    "nonzero": indexing.nonzero,
    "argwhere": indexing.argwhere,
    "diag": indexing.diag,
    "movedim": indexing.movedim,
    "swapaxes": indexing.swapaxes,
    "sort": sorting.sort,
    "argsort": sorting.argsort,
    "topk": sorting.topk,
    "kthvalue": sorting.kthvalue,
    "unique": sorting.unique,
    "count_nonzero": sorting.count_nonzero,
    "prod": sorting.prod,
    "cumsum": sorting.cumsum,
    "cumprod": sorting.cumprod,
    "tan": maths.tan,
    "asin": maths.asin,
    "acos": maths.acos,
    "atan": maths.atan,
    "arcsin": maths.asin,
    "arccos": maths.acos,
    "arctan": maths.atan,
    "sinh": maths.sinh,
    "cosh": maths.cosh,
    "asinh": maths.asinh,
    "acosh": maths.acosh,
    "atanh": maths.atanh,
    "erf": maths.erf,
    "exp2": maths.exp2,
    "frac": maths.frac,
    "atan2": maths.atan2,
    "hypot": maths.hypot,
    "lerp": maths.lerp,
    "logical_and": maths.logical_and,
    "logical_or": maths.logical_or,
    "logical_xor": maths.logical_xor,
    "logical_not": maths.logical_not,
    "bitwise_and": maths.bitwise_and,
    "bitwise_or": maths.bitwise_or,
    "bitwise_xor": maths.bitwise_xor,
    "bitwise_not": maths.bitwise_not,
    "__and__": maths.bitwise_and,
    "__or__": maths.bitwise_or,
    "__xor__": maths.bitwise_xor,
    "__invert__": maths.bitwise_not,
    "isclose": maths.isclose,
    "isinf": maths.isinf,
    "outer": linalg.outer,
    "mv": linalg.mv,
    "addmm": linalg.addmm,
    "trace": linalg.trace,
    "bmm": linalg.bmm,
    "ravel": lambda self: shape.reshape(self, -1),
    "log": E.log,
    "sqrt": E.sqrt,
    "rsqrt": E.rsqrt,
    "square": E.square,
    "sin": E.sin,
    "cos": E.cos,
    "sign": E.sign,
    "clamp": E.clamp,
    "clip": E.clamp,
    "maximum": E.maximum,
    "minimum": E.minimum,
    "eq": E.eq,
    "ne": E.ne,
    "lt": E.lt,
    "le": E.le,
    "gt": E.gt,
    "ge": E.ge,
    "isnan": E.isnan,
    "isfinite": E.isfinite,
    "allclose": E.allclose,
    "equal": E.equal,
    "tanh": activation.tanh,
    "sigmoid": activation.sigmoid,
    "relu": activation.relu,
    "sum": reduce.sum,
    "mean": reduce.mean,
    "var": reduce.var,
    "std": reduce.std,
    "max": reduce.max,
    "min": reduce.min,
    "amax": reduce.amax,
    "amin": reduce.amin,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "logsumexp": reduce.logsumexp,
    "matmul": linalg.matmul,
    "mm": linalg.matmul,
    "dot": linalg.dot,
    "reshape": lambda self, *s: shape.reshape(self, *s),
    "view": lambda self, *s: shape.view(self, *s),
    "view_as": lambda self, other: shape.view(self, other.shape),
    "reshape_as": lambda self, other: shape.reshape(self, other.shape),
    "flatten": shape.flatten,
    "unflatten": shape.unflatten,
    "permute": lambda self, *d: shape.permute(self, *d),
    "transpose": shape.transpose,
    "t": shape.t,
    "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze,
    "expand": lambda self, *s: shape.expand(self, *s),
    "expand_as": shape.expand_as,
    "repeat": lambda self, *s: shape.repeat(self, *s),
    "split": shape.split,
    "chunk": shape.chunk,
    "where": lambda self, cond, other: E.where(cond, self, other),
    "all": logic.all,
    "any": logic.any,
    "histc": histograms.histc,
    "histogram": histograms.histogram,
    "multinomial": samples.multinomial,
    "bernoulli": samples.bernoulli,
}


def _T(self: Any) -> Any:  # noqa: N802 - torch's name
    return shape.permute(self, *reversed(range(self.ndim)))


def attach(cls: type) -> None:
    for name, fn in {**METHODS, **inplace.INPLACE_METHODS, **_function_methods()}.items():
        setattr(cls, name, fn)
    cls.T = property(_T)  # type: ignore[attr-defined]
    cls.mT = property(lambda self: shape.transpose(self, -2, -1))  # type: ignore[attr-defined]


def _function_methods() -> dict[str, Any]:
    """``x.diff()``, ``x.median()``, ``x.addcmul_()``...: torch's method forms of the
    composite functions (``ops/functions.py``), the tensor as the first argument; the
    ``_`` forms write the result back into the tensor (``inplace.apply_inplace``), with the
    out-of-place function's signature."""
    import inspect

    from deepgrad.ops import functions

    out: dict[str, Any] = {name: getattr(functions, name) for name in FUNCTION_METHODS}
    for name in FUNCTION_METHODS_INPLACE:
        fn = getattr(functions, name)

        def method(self: Any, *args: Any, _fn: Any = fn, _name: str = name + "_",
                   **kwargs: Any) -> Any:
            return inplace.apply_inplace(self, _name, lambda t: _fn(t, *args, **kwargs))

        method.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
        method.__name__ = method.__qualname__ = name + "_"
        out[name + "_"] = method
    return out


FUNCTION_METHODS = (
    "absolute", "multiply", "divide", "subtract", "negative", "true_divide", "positive",
    "swapdims", "moveaxis", "clamp_min", "clamp_max", "sgn", "broadcast_to", "tile", "ravel",
    "rot90", "tensor_split", "hsplit", "vsplit", "dsplit", "take", "repeat_interleave",
    "diff", "dist", "addcmul", "addcdiv", "baddbmm", "addbmm", "addmv", "addr", "diagonal",
    "diag_embed", "diagflat", "nan_to_num", "nansum", "nanmean", "median", "quantile",
    "nanquantile", "logit", "logaddexp", "logaddexp2", "xlogy", "heaviside", "fmod", "fmax",
    "fmin", "deg2rad", "rad2deg", "sinc", "signbit", "erfc", "isneginf", "isposinf", "isreal",
    "is_nonzero", "gcd", "lcm", "ldexp", "cummax", "cummin", "cross", "inner", "kron", "det",
    "inverse", "logdet", "slogdet", "svd", "matrix_power", "msort", "cov", "corrcoef",
    "index_add", "index_copy", "index_fill", "bincount",
)
FUNCTION_METHODS_INPLACE = (
    "clamp_min", "clamp_max", "index_add", "index_copy", "nan_to_num", "logit", "fmod",
    "xlogy", "deg2rad", "rad2deg", "sinc", "erfc", "negative", "absolute", "true_divide",
    "sgn", "baddbmm", "addbmm", "addmv", "addr", "heaviside", "lcm", "gcd", "ldexp",
)
