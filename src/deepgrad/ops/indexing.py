"""Indexing along a dim: gather/scatter, index_select, masked_select, flip, roll, tril/triu,
narrow/select/unbind, nonzero. torch's names and argument order (``dim`` first after the input).

Backwards scatter into zeros with ``np.add.at`` where indices may repeat, so repeated
picks accumulate as in torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops.reduce import normalize_dims
from deepgrad.tensor import Tensor


def _dim(op: str, dim: int, ndim: int) -> int:
    (axis,) = normalize_dims(op, dim, ndim)  # type: ignore[misc]
    return axis


def _long_index(op: str, index: Any) -> np.ndarray:
    array = index._array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {array.dtype}")
    return array.astype(np.int64, copy=False)


def _leading(index: Any, axis: int) -> tuple[slice, ...]:
    """torch lets ``index`` be smaller than the input in the other dims: the part it covers."""
    return tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))


class Gather(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int, index: Any) -> Any:
        ctx.shape, ctx.axis, ctx.index = x.shape, axis, index
        return np.take_along_axis(x[_leading(index, axis)], index, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        _add_along_axis(full, ctx.index, grad, ctx.axis)
        return (full,)


def _add_along_axis(target: Any, index: Any, values: Any, axis: int) -> None:
    """``target[..., index, ...] += values`` along ``axis``, repeated indices accumulating."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    np.add.at(target, tuple(grids), values)


def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (torch.gather)."""
    axis = _dim("gather", dim, input.ndim)
    idx = _long_index("gather", index)
    if idx.ndim == 0 and input.ndim == 1:  # torch takes a 0-d index as one element
        return Gather.apply(input, axis=axis, index=idx.reshape(1)).reshape(())
    if idx.ndim != input.ndim:
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor (index {idx.ndim}-D, input {input.ndim}-D)")
    return Gather.apply(input, axis=axis, index=idx)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    if dim is None:
        return gather(input.reshape(-1), 0, _long_index("take_along_dim", indices).reshape(-1))
    return gather(input, dim, indices)


class Scatter(Function):
    """``scatter``: a copy of ``x`` with ``src`` written at ``index`` along ``axis``
    (``reduce="add"`` adds instead)."""
    linear = True


    @staticmethod
    def forward(ctx: Context, x: Any, src: Any, axis: int, index: Any, add: bool) -> Any:
        ctx.axis, ctx.index, ctx.add, ctx.src_shape = axis, index, add, src.shape
        out = np.array(x, copy=True)
        values = src[tuple(slice(0, s) for s in index.shape)] if src.ndim else src
        covered = out[_leading(index, axis)]  # a view: writes land in out
        if add:
            _add_along_axis(covered, index, np.broadcast_to(values, index.shape), axis)
        else:
            np.put_along_axis(covered, index, values, axis=axis)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = np.array(grad, copy=True)
            if not ctx.add:
                np.put_along_axis(gx[_leading(ctx.index, ctx.axis)], ctx.index, 0, axis=ctx.axis)
        if ctx.needs_input_grad[1]:
            picked = np.take_along_axis(grad[_leading(ctx.index, ctx.axis)], ctx.index,
                                        axis=ctx.axis)
            if not ctx.src_shape:
                gs = np.asarray(picked.sum(), dtype=grad.dtype)
            else:
                gs = np.zeros(ctx.src_shape, dtype=grad.dtype)
                gs[tuple(slice(0, s) for s in ctx.index.shape)] = picked
        return gx, gs


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *,  # noqa: A002
            value: Any = None, reduce: str | None = None) -> Tensor:
    """torch.scatter: ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``; ``src`` may be a
    number (torch's ``value``)."""
    axis = _dim("scatter", dim, input.ndim)
    idx = _long_index("scatter", index)
    if idx.ndim == 0 and input.ndim == 1:  # torch takes a 0-d index as one element
        idx = idx.reshape(1)
    if idx.ndim != input.ndim:
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions as "
                           f"self tensor (index {idx.ndim}-D, self {input.ndim}-D)")
    if src is None:
        src = value
    if reduce not in (None, "add"):
        raise NotImplementedError(f"scatter(): reduce={reduce!r} is not supported (None or 'add')")
    source = src if isinstance(src, Tensor) else Tensor(
        np.asarray(src, dtype=input.dtype), _copy=False)
    if source.dtype != input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype "
                           f"({input.dtype} vs {source.dtype})")
    return Scatter.apply(input, source, axis=axis, index=idx, add=reduce == "add")


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:  # noqa: A002
    return scatter(input, dim, index, src, reduce="add")


class IndexSelect(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int, index: Any) -> Any:
        ctx.shape, ctx.axis, ctx.index = x.shape, axis, index
        return np.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        moved = np.moveaxis(full, ctx.axis, 0)
        np.add.at(moved, ctx.index, np.moveaxis(grad, ctx.axis, 0))
        return (full,)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    idx = _long_index("index_select", index)
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {idx.ndim}-D")
    return IndexSelect.apply(input, axis=_dim("index_select", dim, input.ndim), index=idx)


def masked_select(input: Tensor, mask: Any) -> Tensor:  # noqa: A002
    m = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    shape = np.broadcast_shapes(m.shape, input.shape)
    x = input if tuple(input.shape) == shape else input.expand(*shape)
    return x[Tensor(np.broadcast_to(m, shape), _copy=False)]  # type: ignore[index]


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    axis = _dim("narrow", dim, input.ndim)
    size = input.shape[axis]
    begin = int(start) + size if int(start) < 0 else int(start)
    if not 0 <= begin <= size or length < 0 or begin + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}).")
    return input[(slice(None),) * axis + (slice(begin, begin + length),)]  # type: ignore[index]


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    axis = _dim("select", dim, input.ndim)
    return input[(slice(None),) * axis + (int(index),)]  # type: ignore[index]


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    axis = _dim("unbind", dim, input.ndim)
    return tuple(select(input, axis, i) for i in range(input.shape[axis]))


class Flip(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
        ctx.axes = axes
        return np.flip(x, axes).copy()  # torch's flip copies

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (np.flip(grad, ctx.axes).copy(),)


def flip(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    axes = normalize_dims("flip", dims, input.ndim) or ()
    return Flip.apply(input, axes=tuple(axes))


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    return flip(input, (0,))


class Roll(Function):
    linear = True

    @staticmethod
    def forward(ctx: Context, x: Any, shifts: Any, axes: Any) -> Any:
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return (np.roll(grad, back, ctx.axes),)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    if dims is None:
        flat = input.reshape(-1)
        return Roll.apply(flat, shifts=int(shifts), axes=0).reshape(input.shape)
    axes = normalize_dims("roll", dims, input.ndim) or ()
    shift = tuple(int(s) for s in shifts) if isinstance(shifts, (tuple, list)) else (int(shifts),)
    if len(shift) != len(axes):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shift)}, "
                           f"dims: {len(axes)}")
    return Roll.apply(input, shifts=shift, axes=tuple(axes))


class Triangle(Function):
    """tril/triu: the gradient flows where the mask keeps the input."""
    linear = True


    @staticmethod
    def forward(ctx: Context, x: Any, keep: Any) -> Any:
        ctx.keep = keep
        return np.where(keep, x, np.zeros((), dtype=x.dtype))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (np.where(ctx.keep, grad, np.zeros((), dtype=grad.dtype)),)


def _triangle(op: str, input: Tensor, diagonal: int, lower: bool) -> Tensor:  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    rows, cols = input.shape[-2:]
    keep = (np.tri(rows, cols, diagonal, dtype=bool) if lower
            else ~np.tri(rows, cols, diagonal - 1, dtype=bool))
    return Triangle.apply(input, keep=keep)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    return _triangle("tril", input, diagonal, lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    return _triangle("triu", input, diagonal, lower=False)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """Indices of the non-zero elements: ``(n, ndim)`` int64, or one index tensor per dim."""
    found = np.nonzero(input._array)
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64), _copy=False) for i in found)
    return Tensor(np.stack(found, axis=1).astype(np.int64) if found else
                  np.zeros((0, 0), np.int64), _copy=False)


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    return nonzero(input)  # type: ignore[no-any-return]


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D input's diagonal matrix, or a 2-D input's diagonal (differentiable both ways)."""
    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        rows = np.arange(input.shape[0]) + max(-diagonal, 0)
        cols = np.arange(input.shape[0]) + max(diagonal, 0)
        from deepgrad.ops import creation

        out = creation.zeros(n, n, dtype=input.dtype)
        out[Tensor(rows, _copy=False), Tensor(cols, _copy=False)] = input  # type: ignore[index]
        return out
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    n_rows, n_cols = int(input.shape[0]), int(input.shape[1])
    i = np.arange(max(0, min(n_rows + min(diagonal, 0), n_cols - max(diagonal, 0))))
    return input[Tensor(i + max(-diagonal, 0), _copy=False),  # type: ignore[index]
                 Tensor(i + max(diagonal, 0), _copy=False)]


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    src = normalize_dims("movedim", source, input.ndim) or ()
    dst = normalize_dims("movedim", destination, input.ndim) or ()
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return input.permute(*order)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    return input.transpose(axis0, axis1)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (differentiable: views by expand), as torch;
    ``indexing="xy"`` swaps the first two dims."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = i
        if indexing == "xy" and len(tensors) >= 2 and i < 2:
            axis = 1 - i
        shape = [1] * len(tensors)
        shape[axis] = t.numel()
        grids.append(t.reshape(*shape).expand(*sizes))
    return tuple(grids)
