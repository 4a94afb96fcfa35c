"""Shape ops: reshape/view, permute/transpose, expand, repeat, indexing, cat/stack, pad."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.ops.elementwise import unbroadcast
from deepgrad.ops.reduce import normalize_dims
from deepgrad.tensor import Tensor, _shape_arg


def _reshaped(shape: tuple[int, ...]) -> Any:
    return lambda array: array.reshape(shape)


class Reshape(Function):
    """``reshape``/``view``: a view of the input when its memory allows, else a copy."""
    differentiable_backward = True


    view_fn = staticmethod(lambda ctx, shape: _reshaped(shape))

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (grad.reshape(ctx.shape),)


def _permuted(dims: tuple[int, ...]) -> Any:
    return lambda array: array.transpose(dims)


class Permute(Function):
    differentiable_backward = True

    view_fn = staticmethod(lambda ctx, shape: _permuted(ctx.dims))

    @staticmethod
    def forward(ctx: Context, x: Any, dims: tuple[int, ...]) -> Any:
        ctx.dims = dims
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (dual.transpose(grad, ctx.inverse),)


def _expanded(shape: tuple[int, ...]) -> Any:
    return lambda array: np.broadcast_to(array, shape)


class Expand(Function):
    differentiable_backward = True

    view_fn = staticmethod(lambda ctx, shape: _expanded(shape))

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (unbroadcast(grad, ctx.shape),)


class Repeat(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, repeats: tuple[int, ...]) -> Any:
        extra = len(repeats) - x.ndim
        shaped = x.reshape((1,) * extra + x.shape)
        ctx.shape, ctx.shaped, ctx.repeats = x.shape, shaped.shape, repeats
        return np.tile(shaped, repeats)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        split: list[int] = []
        for r, s in zip(ctx.repeats, ctx.shaped, strict=True):
            split += [r, s]
        g = dual.sum(grad.reshape(split), axis=tuple(range(0, len(split), 2)))
        return (g.reshape(ctx.shape),)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (np.ndarray, list)) for i in items)


def _indexed(index: Any) -> Any:
    return lambda array: array[index]


class GetItem(Function):
    """Indexing. Basic indices (ints, slices) give a view; the backward scatters into
    zeros, and repeated (advanced) indices accumulate."""
    linear = True


    view_fn = staticmethod(lambda ctx, shape: _indexed(ctx.index))

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any) -> Any:
        ctx.advanced = _is_advanced(index)
        if not ctx.advanced:  # x[0, 2] as a 0-d view (NumPy would give a scalar copy)
            items = index if isinstance(index, tuple) else (index,)
            index = items if any(i is Ellipsis for i in items) else (*items, Ellipsis)
        ctx.shape, ctx.index, ctx.dtype = x.shape, index, x.dtype
        return x[index]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.advanced:
            np.add.at(full, ctx.index, grad)
        else:
            full[ctx.index] = grad
        return (full,)


class Cat(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, *arrays: Any, dim: int) -> Any:
        ctx.sizes = [a.shape[dim] for a in arrays]
        ctx.dim = dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        bounds = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(grad, bounds, axis=ctx.dim))


class Stack(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, *arrays: Any, dim: int) -> Any:
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return tuple(np.moveaxis(grad, ctx.dim, 0))


class Pad(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, widths: tuple[tuple[int, int], ...], value: float) -> Any:
        ctx.slices = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (grad[ctx.slices],)


def reshape(input: Tensor, *shape: Any) -> Tensor:  # noqa: A002
    target = _shape_arg(shape)
    known = [s for s in target if s != -1]
    if target.count(-1) > 1:
        raise RuntimeError(f"reshape: only one dimension can be inferred (-1), got {target}")
    size = input.numel()
    prod = math.prod(known)
    if (-1 in target and (prod == 0 or size % prod)) or (-1 not in target and prod != size):
        raise RuntimeError(
            f"reshape: shape {list(target)} is invalid for input of size {size} "
            f"(input shape {tuple(input.shape)})")
    return Reshape.apply(input, shape=target)


def view(input: Tensor, *shape: Any) -> Tensor:  # noqa: A002
    """``reshape`` that never copies: an error when a view's memory can't be viewed so.

    A tensor that is not a view may hold an op's internal layout (a pooling output in
    channels-last order) where torch's memory is contiguous; it is made contiguous in
    place first, so ``x.view(n, -1)`` works and shares memory as in torch.
    """
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return _view_as_dtype(input, shape[0])
    out = reshape(input, *shape)
    if input.numel() <= 1 or np.may_share_memory(out._array, input._array):
        return out
    if input._base is not None:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces): input shape {tuple(input.shape)}, "
            f"view {tuple(out.shape)}. Use .reshape(...) instead.")
    input._array = out._array.reshape(input.shape)
    out._version_counter, out._base = input._version_counter, input
    out._view_fn = _reshaped(out.shape)
    return out


def _view_as_dtype(input: Tensor, dtype: Any) -> Tensor:  # noqa: A002
    """``view(dtype)``: the same bytes read as another dtype (torch's reinterpretation, not a
    cast), sharing memory and the version counter; it carries no gradient."""
    from deepgrad.tensor import _normalize_dtype

    dt = _normalize_dtype(dtype)
    if dt == input.dtype:
        return reshape(input, input.shape)
    try:
        array = input._array.view(dt)
    except ValueError as exc:
        raise RuntimeError(f"view(dtype): cannot view a {input.dtype} tensor of shape "
                           f"{tuple(input.shape)} as {dt}: {exc}") from None
    out = Tensor(array, _copy=False)
    out._version_counter = input._version_counter
    return out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = normalize_dims("flatten", (start_dim, end_dim), input.ndim)  # type: ignore[misc]
    shape = input.shape
    new = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return reshape(input, new)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    (axis,) = normalize_dims("unflatten", dim, input.ndim)  # type: ignore[misc]
    sizes = tuple(sizes)
    if -1 not in sizes and math.prod(sizes) != input.shape[axis]:
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim "
                           f"{dim} ({input.shape[axis]}) of input shape {tuple(input.shape)}")
    return reshape(input, input.shape[:axis] + sizes + input.shape[axis + 1:])


def permute(input: Tensor, *dims: Any) -> Tensor:  # noqa: A002
    order = _shape_arg(dims)
    if sorted(normalize_dims("permute", order, input.ndim) or ()) != list(range(input.ndim)):
        raise RuntimeError(f"permute: dims {order} are not a permutation of the "
                           f"{input.ndim} dims of input shape {tuple(input.shape)}")
    axes = normalize_dims("permute", order, input.ndim)
    return Permute.apply(input, dims=axes)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return Permute.apply(input, dims=tuple(range(input.ndim)))
    a, b = normalize_dims("transpose", (dim0, dim1), input.ndim)  # type: ignore[misc]
    order = list(range(input.ndim))
    order[a], order[b] = order[b], order[a]
    return Permute.apply(input, dims=tuple(order))


def t(input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {input.ndim}")
    return transpose(input, 0, 1) if input.ndim == 2 else Permute.apply(input,
                                                                        dims=tuple(range(input.ndim)))


def squeeze(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        axes = normalize_dims("squeeze", dim, input.ndim) or ()
        shape = tuple(s for i, s in enumerate(input.shape) if not (i in axes and s == 1))
    return reshape(input, shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    (axis,) = normalize_dims("unsqueeze", dim, input.ndim + 1)  # type: ignore[misc]
    return reshape(input, input.shape[:axis] + (1,) + input.shape[axis:])


def expand(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    target = list(_shape_arg(sizes))
    extra = len(target) - input.ndim
    if extra < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(target)}) must be >= the "
                           f"number of dims of input shape {tuple(input.shape)}")
    for i, s in enumerate(target):
        if s == -1:
            if i < extra:
                raise RuntimeError("expand: -1 is not allowed in a new leading dimension")
            target[i] = input.shape[i - extra]
    for i, s in enumerate(input.shape):
        if s != 1 and s != target[i + extra]:
            raise RuntimeError(f"expand: the size of input dim {i} ({s}) must match the "
                               f"expanded size {target[i + extra]} or be 1 (input "
                               f"{tuple(input.shape)}, "
                               f"target {tuple(target)})")
    return Expand.apply(input, shape=tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return expand(input, other.shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    reps = _shape_arg(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                           f"than the number of tensor dims ({input.ndim})")
    return Repeat.apply(input, repeats=reps)


def _convert_index(index: Any, shape: tuple[int, ...]) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._array
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "iub":
            raise IndexError(f"index: tensors used as indices must be long or bool, got "
                             f"dtype {item.dtype}")
        out.append(item)
    converted = tuple(out) if isinstance(index, tuple) else out[0]
    try:
        np.empty(shape, dtype=np.bool_)[converted]
    except IndexError as exc:
        raise IndexError(f"index: {exc} (tensor shape {tuple(shape)})") from None
    return converted


def getitem(input: Tensor, index: Any) -> Tensor:  # noqa: A002
    return GetItem.apply(input, index=_convert_index(index, input.shape))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    (axis,) = normalize_dims("cat", dim, first.ndim)  # type: ignore[misc]
    for i, x in enumerate(tensors):
        if x.ndim != first.ndim or any(a != b for j, (a, b) in
                                       enumerate(zip(x.shape, first.shape, strict=True))
                                       if j != axis):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {dim}; "
                               f"tensor 0 has shape {tuple(first.shape)}, tensor {i} has "
                               f"{tuple(x.shape)}")
    return Cat.apply(*tensors, dim=axis)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(x.shape)} at "
                               f"entry {i}")
    (axis,) = normalize_dims("stack", dim, tensors[0].ndim + 1)  # type: ignore[misc]
    return Stack.apply(*tensors, dim=axis)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    (axis,) = normalize_dims("split", dim, tensor.ndim)  # type: ignore[misc]
    size = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, size - s) for s in range(0, size, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(f"split: split sizes {sizes} don't add up to the size {size} of "
                               f"dim {dim}")
    pieces = []
    start = 0
    for s in sizes:
        index = (slice(None),) * axis + (slice(start, start + s),)
        pieces.append(getitem(tensor, index))
        start += s
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    (axis,) = normalize_dims("chunk", dim, input.ndim)  # type: ignore[misc]
    step = math.ceil(input.shape[axis] / chunks)
    return split(input, step, dim)


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """torch's ``F.pad``: ``pad`` lists (left, right) pairs from the last dimension backwards.

    ``constant`` fills with ``value`` (a negative width crops); ``reflect`` mirrors without
    repeating the edge, ``replicate`` repeats it, ``circular`` wraps around. The last three
    are one ``index_select`` per padded dimension, so their gradient adds each padded
    position back to the value it copies."""
    if mode not in PAD_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; choose one of "
                                  f"{', '.join(PAD_MODES)}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most "
                         f"2 * ndim ({2 * input.ndim}) for input shape {tuple(input.shape)}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode != "constant":
        if value:
            raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
        return _pad_by_index(input, widths, mode)
    if any(lo < 0 or hi < 0 for lo, hi in widths):  # crop first, then pad what is left
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in
                     zip(widths, input.shape, strict=True))
        input = getitem(input, crop)  # noqa: A001
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if not any(lo or hi for lo, hi in widths):
        return input
    return Pad.apply(input, widths=tuple(widths), value=0.0 if value is None else value)


def _pad_by_index(input: Tensor, widths: list[tuple[int, int]], mode: str) -> Tensor:  # noqa: A002
    from deepgrad.ops.indexing import index_select

    out = input
    for dim, ((lo, hi), n) in enumerate(zip(widths, input.shape, strict=True)):
        if not (lo or hi):
            continue
        if min(lo, hi) < 0:
            raise ValueError(f"pad: negative padding is only supported in 'constant' mode, "
                             f"got {(lo, hi)} for dimension {dim} in mode {mode!r}")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(lo, hi) > limit:
            raise RuntimeError(f"pad: padding size should be less than the corresponding input "
                               f"dimension in mode {mode!r}, but got padding ({lo}, {hi}) at "
                               f"dimension {dim} of input {tuple(input.shape)}")
        positions = np.arange(-lo, n + hi)
        if mode == "reflect":
            index = np.abs(positions)
            index = np.where(index > n - 1, 2 * (n - 1) - index, index)
        elif mode == "replicate":
            index = np.clip(positions, 0, n - 1)
        else:
            index = positions % n
        out = index_select(out, dim, index)
    return out
