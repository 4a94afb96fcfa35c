"""In-place ops: the ``*_`` family, ``+=`` and ``x[i] = v``, with torch's semantics.

An in-place op is the out-of-place op written back into the tensor's memory:
``x.mul_(y)`` computes ``x * y`` and copies it into ``x``. So each op's maths
and backward are written once, in the out-of-place op. What is in-place is
the bookkeeping:

- the memory's version counter goes up, so a backward that saved the old
  values refuses to run (torch's "modified by an inplace operation");
- on a tensor in a graph the op is differentiable: the tensor's ``grad_fn``
  becomes the op's node, fed by its old history;
- on a view the base's history is rewritten too (torch's ``CopySlices``), so
  ``y = x * 2; y[0] = 0; y.sum().backward()`` gives torch's gradient;
- a leaf that requires grad, or a view of one, refuses in-place ops while
  grad mode is on, as in torch.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad import autograd, random
from deepgrad.autograd import Context, Function
from deepgrad.ops import activation, elementwise, maths
from deepgrad.ops.elementwise import unbroadcast
from deepgrad.tensor import Tensor, as_array, scalar_type_name

E = elementwise


class CopySlices(Function):
    """The base's new node after an in-place change of one of its views: gradient of the
    view's region goes to the new values, the rest to the base's old history."""

    @staticmethod
    def forward(ctx: Context, base: Any, values: Any, view_fn: Callable[[Any], Any]) -> Any:
        ctx.view_fn = view_fn
        return base

    @staticmethod
    def decomposition(base: Tensor, values: Tensor, view_fn: Callable[[Any], Any]) -> Tensor:
        """``base`` with the view's elements replaced by ``values``, out of place: the view's
        flat positions in the base (the view function applied to ``arange``), then one
        ``IndexPut``. For a graph-building backward."""
        positions = np.asarray(view_fn(np.arange(base.numel()).reshape(tuple(base.shape))))
        flat = IndexPut.apply(base.reshape(-1), values.reshape(-1), index=positions.reshape(-1))
        return flat.reshape(tuple(base.shape))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g_base = g_values = None
        if ctx.needs_input_grad[0]:
            g_base = np.array(grad, copy=True)
            ctx.view_fn(g_base)[...] = 0
        if ctx.needs_input_grad[1]:
            g_values = np.array(ctx.view_fn(grad), copy=True)
        return g_base, g_values


class ViewOfBase(Function):
    """A view's node after its base's history was rewritten: the view of the new base."""
    linear = True


    @staticmethod
    def forward(ctx: Context, base: Any, view_fn: Callable[[Any], Any]) -> Any:
        ctx.view_fn, ctx.base_shape = view_fn, base.shape
        return view_fn(base)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        full = np.zeros(ctx.base_shape, dtype=grad.dtype)
        ctx.view_fn(full)[...] = grad
        return (full,)


class Overwrite(Function):
    """``copy_``/``fill_``: the new values come from ``source`` (broadcast and cast to the
    destination); the old values get no gradient."""
    linear = True


    @staticmethod
    def forward(ctx: Context, dest: Any, source: Any) -> Any:
        ctx.source_shape, ctx.source_dtype = source.shape, source.dtype
        return np.broadcast_to(source, dest.shape).astype(dest.dtype, copy=True)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = None
        if ctx.needs_input_grad[1]:
            g = unbroadcast(grad, ctx.source_shape).astype(ctx.source_dtype, copy=False)
        return None, g


class IndexPut(Function):
    """``x[index] = values`` out of place: the old values at ``index`` get no gradient."""
    linear = True


    @staticmethod
    def forward(ctx: Context, x: Any, values: Any, index: Any) -> Any:
        out = np.array(x, copy=True)
        out[index] = values
        ctx.index, ctx.values_shape = index, values.shape
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = np.array(grad, copy=True)
            gx[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            gv = unbroadcast(np.asarray(grad[ctx.index]), ctx.values_shape)
        return gx, gv


def _refuse_leaf(t: Tensor, name: str) -> None:
    if not autograd.is_grad_enabled():
        return
    if t.requires_grad and t.grad_fn is None:
        what = "a view of a leaf Variable" if name == "__setitem__" else "a leaf Variable"
        raise RuntimeError(
            f"{name}: {what} that requires grad is being used in an in-place "
            f"operation. Do it inside `with deepgrad.no_grad():` (an optimizer-style update), "
            f"or on a copy (x = x.clone()).")
    base = t._base
    if base is not None and base.requires_grad and base.grad_fn is None and t.requires_grad:
        raise RuntimeError(
            f"{name}: a view of a leaf Variable that requires grad is being used in an "
            f"in-place operation.")


def _write(t: Tensor, new: Any, name: str) -> None:
    """Copy ``new`` into ``t``'s memory, with torch's checks of shape and dtype."""
    array = t._array
    if new.shape != array.shape:
        raise RuntimeError(
            f"{name}: output with shape {list(array.shape)} doesn't match the broadcast shape "
            f"{list(new.shape)}")
    if new.dtype != array.dtype and not np.can_cast(new.dtype, array.dtype, "same_kind"):
        raise RuntimeError(
            f"{name}: result type {scalar_type_name(new.dtype)} can't be cast to the desired "
            f"output type {scalar_type_name(array.dtype)}")
    if not array.flags.writeable:
        if array.size > 1 and 0 in array.strides:
            raise RuntimeError(
                f"{name}: unsupported operation: more than one element of the written-to "
                f"tensor refers to a single memory location (an expanded tensor). Please "
                f"clone() the tensor before performing the operation.")
        t._array = array = np.array(array, copy=True)  # read-only memory: take a private copy
    np.copyto(array, new, casting="unsafe")


def _snapshot(t: Tensor) -> Tensor:
    """``t`` as it is now, for the graph: a copy of its values on its current node."""
    old = Tensor(np.array(t._array, copy=True), _copy=False)
    old.grad_fn = t.grad_fn
    old.requires_grad = t.requires_grad
    if t.requires_grad and t.grad_fn is None:  # a leaf (only reachable under enable_grad)
        old._accumulator = t._grad_accumulator()
    return old


def _rebase(t: Tensor, result: Tensor) -> None:
    """Give ``t`` (and its base, when ``t`` is a view) the history of the new values."""
    base = t._base
    if t._retains_grad and t.grad_fn is not None:
        t.grad_fn.retained = None  # the old node's gradient is not this tensor's any more
    if base is None:
        t.grad_fn = result.grad_fn
        t.requires_grad = result.requires_grad
        if t._retains_grad and t.grad_fn is not None:
            t.grad_fn.retained = weakref.ref(t)
        return
    assert t._view_fn is not None
    old_base = Tensor(base._array, _copy=False)
    old_base.grad_fn, old_base.requires_grad = base.grad_fn, base.requires_grad
    copied = CopySlices.apply(old_base, result, view_fn=t._view_fn)
    base.grad_fn, base.requires_grad = copied.grad_fn, copied.requires_grad
    viewed = ViewOfBase.apply(base, view_fn=t._view_fn)
    t.grad_fn, t.requires_grad = viewed.grad_fn, viewed.requires_grad


def _involves_grad(t: Tensor, operands: tuple[Any, ...]) -> bool:
    return autograd.is_grad_enabled() and (
        t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands))


def apply_inplace(t: Tensor, name: str, op: Callable[..., Tensor], *operands: Any) -> Tensor:
    """Run ``op(t, *operands)`` out of place and write the result into ``t``."""
    _refuse_leaf(t, name)
    if not _involves_grad(t, operands):
        with autograd.no_grad():
            result = op(t, *operands)
        _write(t, result._array, name)
        t._version_counter.value += 1
        return t
    result = op(_snapshot(t), *operands)
    _write(t, result._array, name)
    t._version_counter.value += 1
    _rebase(t, result)
    return t


def _operand(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(E.to_operand(value, like), _copy=False)


# ---- the *_ family -----------------------------------------------------------

def add_(self: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    return apply_inplace(self, "add_", lambda s, o: E.add(s, o, alpha=alpha), other)


def sub_(self: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    return apply_inplace(self, "sub_", lambda s, o: E.sub(s, o, alpha=alpha), other)


def mul_(self: Tensor, other: Any) -> Tensor:
    return apply_inplace(self, "mul_", E.mul, other)


def div_(self: Tensor, other: Any, rounding_mode: str | None = None) -> Tensor:
    return apply_inplace(self, "div_", lambda s, o: E.div(s, o, rounding_mode=rounding_mode),
                         other)


def pow_(self: Tensor, exponent: Any) -> Tensor:
    return apply_inplace(self, "pow_", E.pow, exponent)


def addcmul_(self: Tensor, tensor1: Any, tensor2: Any, value: Any = 1) -> Tensor:
    return apply_inplace(self, "addcmul_", lambda s, a, b: E.add(s, E.mul(a, b), alpha=value),
                         tensor1, tensor2)


def addcdiv_(self: Tensor, tensor1: Any, tensor2: Any, value: Any = 1) -> Tensor:
    return apply_inplace(self, "addcdiv_", lambda s, a, b: E.add(s, E.div(a, b), alpha=value),
                         tensor1, tensor2)


def lerp_(self: Tensor, end: Any, weight: Any) -> Tensor:
    return apply_inplace(self, "lerp_", lambda s, e: E.add(s, E.mul(E.sub(e, s), weight)), end)


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    source = src if isinstance(src, Tensor) else Tensor(as_array(src), _copy=False)
    try:
        fits = np.broadcast_shapes(source.shape, self.shape) == self.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"copy_: source shape {tuple(source.shape)} cannot be broadcast to {tuple(self.shape)}")
    return apply_inplace(self, "copy_", Overwrite.apply, source)


def fill_(self: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions")
    source = value if isinstance(value, Tensor) else Tensor(
        np.asarray(value, dtype=self.dtype), _copy=False)
    return apply_inplace(self, "fill_", Overwrite.apply, source)


def zero_(self: Tensor) -> Tensor:
    return fill_(self, 0)


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return apply_inplace(self, "clamp_", lambda s: E.clamp(s, min, max))


def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    return apply_inplace(self, "masked_fill_", lambda s, m: E.masked_fill(s, m, value), mask)


def scatter_(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    from deepgrad.ops.indexing import scatter

    return apply_inplace(self, "scatter_",
                         lambda s: scatter(s, dim, index, src, value=value, reduce=reduce))


def scatter_add_(self: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    from deepgrad.ops.indexing import scatter_add

    return apply_inplace(self, "scatter_add_", lambda s, v: scatter_add(s, dim, index, v), src)


def index_fill_(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    from deepgrad.ops.indexing import _dim, _long_index

    axis = _dim("index_fill_", dim, self.ndim)
    where = (slice(None),) * axis + (Tensor(_long_index("index_fill_", index), _copy=False),)
    setitem(self, where, value)
    return self


def setitem(self: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: in place, differentiable with respect to ``x``'s history and
    ``value``."""
    from deepgrad.ops.shape import _convert_index

    idx = _convert_index(index, self.shape)
    values = _operand(value, self)
    if values.dtype != self.dtype:
        values = E.cast(values, self.dtype)
    target_shape = np.empty(self.shape, dtype=np.bool_)[idx].shape
    extra = values.ndim - len(target_shape)
    if extra > 0 and all(n == 1 for n in values.shape[:extra]):  # leading 1s drop, as torch
        values = values.reshape(values.shape[extra:])
    try:
        np.broadcast_to(np.empty(values.shape, dtype=np.bool_), target_shape)
    except ValueError:
        raise RuntimeError(f"__setitem__: shape mismatch: value tensor of shape "
                           f"{list(values.shape)} cannot be broadcast to indexing result of "
                           f"shape {list(target_shape)}") from None
    apply_inplace(self, "__setitem__", lambda s, v: IndexPut.apply(s, v, index=idx), values)


def _reshape_in_place(self: Tensor, view: Tensor) -> Tensor:
    """``t_``/``unsqueeze_``/``squeeze_``: this tensor takes the view's shape (same memory)."""
    if autograd.is_grad_enabled() and self.requires_grad:
        raise RuntimeError("in-place shape changes of a tensor that requires grad are not "
                           "supported; use the out-of-place op (x = x.t())")
    self._array = view._array
    return self


def _unary_(name: str, fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    def method(self: Tensor) -> Tensor:
        return apply_inplace(self, name, fn)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``."
    return method


def _random_(name: str, draw: Callable[..., Any]) -> Callable[..., Tensor]:
    """A random fill: new values with no history (the old ones get no gradient)."""

    def method(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        rng = random.resolve(generator, name)
        values = np.asarray(draw(rng, self.shape, *args, **kwargs))
        return fill_from(self, name, values)

    method.__name__ = name
    method.__doc__ = f"Fill in place from the generator ({name[:-1]})."
    return method


def fill_from(self: Tensor, name: str, values: Any) -> Tensor:
    """Overwrite ``self`` with ``values`` (an array of its shape) in place; no gradient."""
    source = Tensor(np.asarray(values).astype(self.dtype, copy=False), _copy=False)
    return apply_inplace(self, name, Overwrite.apply, source)


def _uniform(rng: Any, shape: Any, a: float = 0.0, b: float = 1.0) -> Any:
    return rng.uniform(a, b, shape)


def _normal(rng: Any, shape: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    return rng.normal(mean, std, shape)


def _bernoulli(rng: Any, shape: Any, p: Any = 0.5) -> Any:
    prob = p._array if isinstance(p, Tensor) else p
    return rng.random(shape) < prob


def _exponential(rng: Any, shape: Any, lambd: float = 1.0) -> Any:
    return rng.exponential(1.0 / lambd, shape)


def _random_ints(rng: Any, shape: Any, low: int = 0, high: int | None = None) -> Any:
    if high is None:
        low, high = 0, low if low else 2**24
    return rng.integers(low, high, shape)


INPLACE_METHODS: dict[str, Any] = {
    "add_": add_,
    "sub_": sub_,
    "subtract_": sub_,
    "mul_": mul_,
    "multiply_": mul_,
    "div_": div_,
    "divide_": div_,
    "pow_": pow_,
    "addcmul_": addcmul_,
    "addcdiv_": addcdiv_,
    "lerp_": lerp_,
    "copy_": copy_,
    "fill_": fill_,
    "zero_": zero_,
    "clamp_": clamp_,
    "clip_": clamp_,
    "masked_fill_": masked_fill_,
    "scatter_": scatter_,
    "scatter_add_": scatter_add_,
    "index_fill_": index_fill_,
    "t_": lambda self: _reshape_in_place(self, self.t()),
    "unsqueeze_": lambda self, dim: _reshape_in_place(self, self.unsqueeze(dim)),
    "squeeze_": lambda self, dim=None: _reshape_in_place(self, self.squeeze(dim)),
    "neg_": _unary_("neg_", E.neg),
    "abs_": _unary_("abs_", E.abs),
    "exp_": _unary_("exp_", E.exp),
    "log_": _unary_("log_", E.log),
    "sqrt_": _unary_("sqrt_", E.sqrt),
    "rsqrt_": _unary_("rsqrt_", E.rsqrt),
    "square_": _unary_("square_", E.square),
    "sin_": _unary_("sin_", E.sin),
    "cos_": _unary_("cos_", E.cos),
    "reciprocal_": _unary_("reciprocal_", maths.reciprocal),
    "log1p_": _unary_("log1p_", maths.log1p),
    "expm1_": _unary_("expm1_", maths.expm1),
    "floor_": _unary_("floor_", E.floor),
    "ceil_": _unary_("ceil_", E.ceil),
    "round_": _unary_("round_", E.round),
    "trunc_": _unary_("trunc_", E.trunc),
    "sign_": _unary_("sign_", E.sign),
    "relu_": _unary_("relu_", activation.relu),
    "sigmoid_": _unary_("sigmoid_", activation.sigmoid),
    "tanh_": _unary_("tanh_", activation.tanh),
    "uniform_": _random_("uniform_", _uniform),
    "normal_": _random_("normal_", _normal),
    "bernoulli_": _random_("bernoulli_", _bernoulli),
    "exponential_": _random_("exponential_", _exponential),
    "random_": _random_("random_", _random_ints),
    "__setitem__": setitem,
    "__iadd__": add_,
    "__isub__": sub_,
    "__imul__": mul_,
    "__itruediv__": div_,
    "__ipow__": pow_,
}
