"""The Tensor: an array, its gradient, and the node that made it.

The Tensor layer only wires the graph; the maths lives in ``deepgrad.ops``
(``Function`` subclasses on raw arrays). Operators and methods here are thin
calls into those ops, named and shaped as in PyTorch.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from deepgrad import autograd, backend

Shape = tuple[int, ...]


def _normalize_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "double", "long", "int", "bool"):
        dtype = {"float": "float32", "double": "float64", "long": "int64", "int": "int32",
                 "bool": "bool"}[dtype]
    return np.dtype(dtype)


def as_array(data: Any, dtype: Any = None) -> Any:
    """Turn user data (lists, scalars, arrays, tensors) into an array with torch's dtype rules:
    float input becomes the default float (float32) unless it already is float64,
    integer input int64, bool stays bool."""
    xp = backend.xp
    dt = _normalize_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        array = data
        if dt is None and array.dtype.kind in "iu" and array.dtype != np.uint8:
            dt = backend.int64
        elif dt is None and array.dtype == np.float16:
            dt = backend.default_float_dtype()
        return array.astype(dt, copy=False) if dt is not None else array
    array = xp.asarray(data)
    if dt is not None:
        return array.astype(dt, copy=False)
    if array.dtype.kind == "f":
        return array.astype(backend.default_float_dtype(), copy=False)
    if array.dtype.kind in "iu":
        return array.astype(backend.int64, copy=False)
    if array.dtype == object:
        raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} data")
    return array


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_hooks", "_retains_grad",
                 "_accumulator", "__weakref__", "__dict__")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: builtins.bool = False,
                 *, _copy: bool = True) -> None:
        if _copy is False and dtype is None:
            array = data
        else:
            array = as_array(data, dtype)
        self.data = array
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self._hooks: list[Callable[[Tensor], Any]] = []
        self._retains_grad = False
        self._accumulator: Any = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- metadata ---------------------------------------------------------
    @property
    def shape(self) -> Shape:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> builtins.int:
        return int(self.data.ndim)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return "cpu" if backend.get_array_module(self.data) is np else "cuda"

    @property
    def is_leaf(self) -> builtins.bool:
        return self.grad_fn is None

    def dim(self) -> builtins.int:
        return self.ndim

    def numel(self) -> builtins.int:
        return int(self.data.size)

    def size(self, dim: builtins.int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def __len__(self) -> builtins.int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4,
                               prefix="tensor(")
        extras = []
        if self.dtype != backend.default_float_dtype() and self.dtype != backend.int64 \
                and self.dtype != np.bool_:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __hash__(self) -> builtins.int:
        return id(self)

    def __bool__(self) -> builtins.bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"bool(): a tensor with {self.data.size} elements has no single truth value")
        return bool(self.data)

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> builtins.int:
        return int(self.item())

    def __index__(self) -> builtins.int:
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = backend.to_numpy(self.data)
        return array.astype(dtype) if dtype is not None else array

    # ---- conversion -------------------------------------------------------
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()")
        return backend.to_numpy(self.data)

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to Python scalars; "
                f"got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        return Tensor(self.data, _copy=False)

    def clone(self) -> Tensor:
        from deepgrad.ops import elementwise
        return elementwise.Clone.apply(self)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only floating point tensors can require gradients; "
                f"this tensor has dtype {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False) is only allowed on leaf tensors; use detach()")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = self.grad_fn is not None

    def register_hook(self, hook: Callable[[Tensor], Any]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a function that removes the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "doesn't require gradient")
        self._hooks.append(hook)

        def remove() -> None:
            if hook in self._hooks:
                self._hooks.remove(hook)
        return remove

    def _grad_accumulator(self) -> Any:
        if self._accumulator is None:
            self._accumulator = autograd.AccumulateGrad(self)
        return self._accumulator

    def backward(self, gradient: Any = None, retain_graph: builtins.bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        root = autograd._initial_grad(self, gradient, "backward")
        autograd.run_backward([self], [root], retain_graph)

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``; device strings ("cpu") are accepted and ignored on the CPU backend."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, str) and a.startswith(("cpu", "cuda")):
                continue
            dtype = a
        if dtype is None:
            return self
        dt = _normalize_dtype(dtype)
        if dt == self.dtype:
            return self
        from deepgrad.ops import elementwise
        return elementwise.Cast.apply(self, dtype=dt)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def is_contiguous(self) -> builtins.bool:
        return bool(self.data.flags.c_contiguous)

    # ---- in-place (leaves without grad, or inside no_grad) -----------------
    def _check_inplace(self, name: str) -> None:
        if autograd.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad is used in an in-place operation; "
                f"wrap it in deepgrad.no_grad()")

    def _inplace(self, name: str, value: Any) -> Tensor:
        self._check_inplace(name)
        v = value.data if isinstance(value, Tensor) else value
        if self.data.flags.writeable:
            self.data[...] = v
        else:
            self.data = backend.xp.array(np.broadcast_to(v, self.shape), dtype=self.dtype)
        return self

    def add_(self, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("add_", self.data + (o if alpha == 1 else alpha * o))

    def sub_(self, other: Any, alpha: builtins.float = 1.0) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("sub_", self.data - (o if alpha == 1 else alpha * o))

    def mul_(self, other: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("mul_", self.data * o)

    def div_(self, other: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("div_", self.data / o)

    def zero_(self) -> Tensor:
        return self._inplace("zero_", 0)

    def fill_(self, value: Any) -> Tensor:
        return self._inplace("fill_", value)

    def copy_(self, src: Any) -> Tensor:
        s = src.data if isinstance(src, Tensor) else backend.xp.asarray(src)
        try:
            np.broadcast_shapes(s.shape, self.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: source shape {tuple(s.shape)} cannot be broadcast to {self.shape}"
            ) from None
        return self._inplace("copy_", s)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return self._inplace("clamp_", backend.xp.clip(self.data, min, max))

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0) -> Tensor:
        g = backend.get_generator()
        return self._inplace("uniform_", g.uniform(a, b, self.shape))

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0) -> Tensor:
        g = backend.get_generator()
        return self._inplace("normal_", g.normal(mean, std, self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        if self.grad_fn is not None:
            raise RuntimeError("__setitem__: in-place assignment into a tensor that is part of "
                               "a graph is not supported; build a new tensor instead")
        idx = _index_data(index)
        self.data[idx] = value.data if isinstance(value, Tensor) else value


def _index_data(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Build a tensor from data, copying it (as ``torch.tensor``)."""
    from deepgrad.devices import check_device

    check_device(device, "tensor")
    array = as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and array is (data.data if isinstance(data, Tensor)
                                                           else data):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad, _copy=False)


def from_numpy(array: np.ndarray) -> Tensor:
    """Share memory with a NumPy array (no copy, dtype kept as is)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor(array, _copy=False)


def _attach_ops() -> None:
    """Attach operators and methods defined by the ops modules."""
    from deepgrad.ops import methods

    methods.attach(Tensor)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def _shape_arg(size: Sequence[Any]) -> Shape:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)
