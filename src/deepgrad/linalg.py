"""``torch.linalg``: norms, and inv/det/solve with their gradients; svd/qr/eigh/eigvalsh
forward only (they refuse a tensor that requires grad rather than cut its graph silently)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function, is_grad_enabled
from deepgrad.ops import dual
from deepgrad.ops.linalg import matmul
from deepgrad.ops.linalg import norm as _norm
from deepgrad.tensor import Tensor


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                *, dtype: Any = None) -> Tensor:
    return _norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} is not supported ('fro')")
    return _norm(A, p="fro", dim=dim, keepdim=keepdim, dtype=dtype)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False,  # noqa: N803
         *, dtype: Any = None) -> Tensor:
    """The 2-norm of the flattened input by default (the Frobenius norm of a matrix)."""
    return _norm(A, p=2 if ord is None else ord, dim=dim, keepdim=keepdim, dtype=dtype)


class Inv(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = np.linalg.inv(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (inv_a,) = ctx.saved_tensors
        t = dual.swapaxes(inv_a, -1, -2)
        return (-(t @ grad @ t),)


class Det(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, out = ctx.saved_tensors
        inv_a = inv(a) if isinstance(a, Tensor) else np.linalg.inv(a)
        return ((grad * out)[..., None, None] * dual.swapaxes(inv_a, -1, -2),)


class Solve(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        vector = b.ndim == a.ndim - 1
        out = np.linalg.solve(a, b[..., None] if vector else b)
        out = out[..., 0] if vector else out
        ctx.save_for_backward(a, out)
        ctx.vector = vector
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, x = ctx.saved_tensors
        g = grad[..., None] if ctx.vector else grad
        xs = x[..., None] if ctx.vector else x
        a_t = dual.swapaxes(a, -1, -2)
        gb = solve(a_t, g) if isinstance(g, Tensor) or isinstance(a, Tensor) \
            else np.linalg.solve(a_t, g)
        ga = -gb @ dual.swapaxes(xs, -1, -2)
        return ga, (gb[..., 0] if ctx.vector else gb)


def _square(op: str, a: Tensor) -> Tensor:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim >= 2 else 1} by {a.shape[-1]} matrices")
    return a


def inv(A: Tensor) -> Tensor:  # noqa: N803
    return Inv.apply(_square("inv", A))


def det(A: Tensor) -> Tensor:  # noqa: N803
    return Det.apply(_square("det", A))


def solve(A: Tensor, B: Tensor) -> Tensor:  # noqa: N803
    return Solve.apply(_square("solve", A), B)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (differentiable: products and sums)."""
    from deepgrad.ops.indexing import select
    from deepgrad.ops.shape import stack

    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3, got "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    a = [select(input, dim, i) for i in range(3)]
    b = [select(other, dim, i) for i in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return stack(parts, dim=dim if dim >= 0 else input.ndim + dim)


def _forward_only(op: str, *tensors: Tensor) -> None:
    if is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise NotImplementedError(
            f"linalg.{op}: its backward is not implemented in deepgrad; call it on "
            f"x.detach() (or under no_grad) if you don't need its gradient")


def svd(A: Tensor, full_matrices: bool = True) -> tuple[Tensor, Tensor, Tensor]:  # noqa: N803
    _forward_only("svd", A)
    u, s, vh = np.linalg.svd(A._array, full_matrices=full_matrices)
    return Tensor(u, _copy=False), Tensor(s, _copy=False), Tensor(vh, _copy=False)


def qr(A: Tensor, mode: str = "reduced") -> tuple[Tensor, Tensor]:  # noqa: N803
    _forward_only("qr", A)
    q, r = np.linalg.qr(A._array, mode=mode)  # type: ignore[call-overload]
    return Tensor(q, _copy=False), Tensor(r, _copy=False)


def eigh(A: Tensor, UPLO: str = "L") -> tuple[Tensor, Tensor]:  # noqa: N803
    _forward_only("eigh", A)
    w, v = np.linalg.eigh(A._array, UPLO=UPLO)  # type: ignore[call-overload]
    return Tensor(w, _copy=False), Tensor(v, _copy=False)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    _forward_only("eigvalsh", A)
    return Tensor(np.linalg.eigvalsh(A._array, UPLO=UPLO), _copy=False)  # type: ignore[call-overload]


def matrix_rank(A: Tensor) -> Tensor:  # noqa: N803
    return Tensor(np.asarray(np.linalg.matrix_rank(A._array), dtype=np.int64), _copy=False)


__all__ = ["cross", "det", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_rank",
           "norm", "qr", "solve", "svd", "vector_norm"]
