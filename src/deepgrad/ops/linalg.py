"""Matrix products: ``matmul`` (2-D, batched, vectors) and the fused ``linear`` layer op."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.ops.elementwise import promote, unbroadcast
from deepgrad.tensor import Tensor, as_array


class MatMul(Function):
    """``a @ b`` with NumPy's rules; 1-D operands are promoted and the axis dropped after."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = dual.expand_dims(g, -2)
        if b.ndim == 1:
            g = dual.expand_dims(g, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g @ dual.swapaxes(b2, -1, -2)
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if a2.ndim == 2 and g.ndim == 2:
                gb = a2.T @ g
            else:
                gb = dual.swapaxes(a2, -1, -2) @ g
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``x @ W.T + b`` in one node: one GEMM forward, two backward, bias by a row sum."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any = None) -> Any:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = grad @ weight
        rows = math.prod(grad.shape[:-1])  # not -1: a size-0 feature dim is allowed
        g2 = grad.reshape(rows, grad.shape[-1])
        if ctx.needs_input_grad[1]:
            gw = g2.T @ x.reshape(rows, x.shape[-1])
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = dual.sum(g2, axis=0)
        return (gx, gw, gb) if ctx.has_bias else (gx, gw)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    if out is not None:
        from deepgrad.ops.out_arg import write_out

        with autograd.no_grad():
            result = matmul(input, other)
        return write_out("matmul", result._array, out)
    if not isinstance(other, Tensor):
        other = Tensor(as_array(other), _copy=False)
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    k_a = input.shape[-1]
    k_b = other.shape[0] if other.ndim == 1 else other.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {tuple(input.shape)} and {tuple(other.shape)} cannot be multiplied "
            f"({k_a} != {k_b}: the last dim of the first must equal the "
            f"{'only' if other.ndim == 1 else 'second-to-last'} dim of the second)")
    if input.ndim > 2 and other.ndim > 2:
        try:
            np.broadcast_shapes(input.shape[:-2], other.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {tuple(input.shape)} and "
                               f"{tuple(other.shape)} "
                               f"cannot be broadcast") from None
    a, b = promote("matmul", input, other)
    return MatMul.apply(a, b)


mm = matmul
bmm = matmul


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    x_shape, w_shape = input._array.shape, weight._array.shape  # raw tuples: a hot path
    if not x_shape or x_shape[-1] != w_shape[-1]:
        raise RuntimeError(
            f"linear: input has {input.shape[-1] if input.ndim else 0} features (shape "
            f"{tuple(input.shape)}) but the weight expects {weight.shape[-1]} (weight shape "
            f"{tuple(weight.shape)}, i.e. in_features={weight.shape[-1]})")
    if bias is not None and bias._array.shape != (w_shape[0],):
        raise RuntimeError(f"linear: bias shape {tuple(bias.shape)} does not match out_features "
                           f"({weight.shape[0]},)")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype "
                        f"{weight.dtype}; convert with .float() or .double()")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1-D tensors expected, got {tuple(input.shape)} and "
                           f"{tuple(other.shape)}")
    return matmul(input, other)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """Vector norms as ``torch.norm``: p = 2/"fro" (the default), 1, inf, -inf, 0 or any
    other number, over ``dim`` (all elements when None)."""
    from deepgrad.ops import elementwise as E
    from deepgrad.ops import reduce as R

    x = input if dtype is None else E.cast(input, dtype)
    if p in ("fro", 2, 2.0):
        return E.sqrt(R.sum(E.mul(x, x), dim=dim, keepdim=keepdim))
    if p == 1:
        return R.sum(E.abs(x), dim=dim, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return R.amax(E.abs(x), dim=dim, keepdim=keepdim)
    if p in (float("-inf"), "-inf"):
        return R.amin(E.abs(x), dim=dim, keepdim=keepdim)
    if p == 0:
        return R.sum(E.ne(x, 0).float(), dim=dim, keepdim=keepdim)
    if isinstance(p, (int, float)):
        return E.pow(R.sum(E.pow(E.abs(x), float(p)), dim=dim, keepdim=keepdim), 1.0 / p)
    raise ValueError(f"norm: unsupported p={p!r} (expected a number, 'fro', inf or -inf)")


class Einsum(Function):
    """``einsum`` of any number of operands; each operand's gradient is the einsum of the
    output gradient with the other operands, back to that operand's subscripts (indices only
    that operand sums over come back by broadcasting)."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, *arrays: Any, inputs: tuple[str, ...], output: str) -> Any:
        ctx.save_for_backward(*arrays)
        ctx.subscripts, ctx.output = inputs, output
        return np.asarray(np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=True))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        arrays = ctx.saved_tensors
        grads: list[Any] = []
        for i, (sub, array) in enumerate(zip(ctx.subscripts, arrays, strict=True)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(ctx.subscripts, arrays,
                                                              strict=True)) if j != i]
            known = set(ctx.output).union(*[set(s) for s, _ in others])
            kept = "".join(dict.fromkeys(c for c in sub if c in known))
            spec = ",".join([ctx.output] + [s for s, _ in others]) + "->" + kept
            g = _einsum(spec, grad, *[a for _, a in others])
            # back to the operand's own subscripts: broadcast indices it alone summed over,
            # and put repeated indices (a diagonal) on the diagonal
            sizes = {c: n for c, n in zip(sub, array.shape, strict=True)}
            letters = "".join(dict.fromkeys(sub))
            expanded = _einsum(kept + "->" + "".join(c for c in letters if c in kept), g)
            shape = [sizes[c] if c in kept else 1 for c in letters]
            expanded = dual.broadcast_to(expanded.reshape(shape), [sizes[c] for c in letters])
            if len(letters) == len(sub):
                full = dual.transpose(expanded, [letters.index(c) for c in sub])
            elif isinstance(expanded, Tensor):
                raise NotImplementedError(
                    f"create_graph=True: einsum's backward for an operand with a repeated "
                    f"index ({sub!r}, a diagonal) cannot be differentiated yet")
            else:  # a repeated index: write onto the diagonal
                full = np.zeros(array.shape, dtype=grad.dtype)
                np.einsum(sub + "->" + letters, full)[...] = expanded
            if not isinstance(full, Tensor):
                full = np.ascontiguousarray(full)
            grads.append(dual.astype(full, array.dtype))
        return tuple(grads)


def _einsum(spec: str, *operands: Any) -> Any:
    """NumPy's einsum on arrays; on Tensors (a graph-building backward) deepgrad's."""
    if not any(isinstance(o, Tensor) for o in operands):
        return np.einsum(spec, *operands, optimize=True)
    return einsum(spec, *[o if isinstance(o, Tensor) else Tensor(o, _copy=False)
                          for o in operands])


def _parse_einsum(equation: str, count: int) -> tuple[tuple[str, ...], str]:
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum: ellipsis ('...') subscripts are not supported")
    lhs, _, rhs = eq.partition("->")
    inputs = tuple(lhs.split(","))
    if len(inputs) != count:
        raise RuntimeError(f"einsum(): {len(inputs)} operands in the equation but {count} "
                           f"tensors given")
    if not _:
        letters = "".join(inputs)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, rhs


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum`` (operands as arguments or one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output = _parse_einsum(equation, len(operands))
    for sub, t in zip(inputs, operands, strict=True):
        if len(sub) != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(sub)}) does not match the number of dimensions "
                               f"({t.ndim}) for operand {sub!r}")
    return Einsum.apply(*operands, inputs=inputs, output=output)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    return einsum("i,j->ij", input, vec2)


ger = outer


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} "
                           f"and {tuple(vec.shape)}")
    return matmul(input, vec)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,  # noqa: A002
          alpha: float = 1) -> Tensor:
    from deepgrad.ops import elementwise as E

    product = matmul(mat1, mat2)
    return E.add(E.mul(input, beta) if beta != 1 else input,
                 E.mul(product, alpha) if alpha != 1 else product)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {tuple(input.shape)}")
    return einsum("ii->", input)
