"""The Tensor: a view of an array, its gradient, and the node that made it.

Semantics are torch's. A Tensor views an array; views (``view``, ``reshape``
when it can, ``t``/``transpose``/``permute``, basic slicing, ``detach()``)
share the array and its version counter, ``.data`` is a detached Tensor on the
same array, and ``numpy()``/``from_numpy`` share memory. In-place ops (in
``deepgrad.ops.inplace``) bump the version; backward refuses a saved tensor
whose version moved on.

The Tensor layer only wires the graph; the maths lives in ``deepgrad.ops``
(``Function`` subclasses on raw arrays). Operators and methods are thin calls
into those ops, named and shaped as in PyTorch.
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.autograd import VersionCounter, allocator
from deepgrad.size import Size
from deepgrad.tensor_methods import TensorMethods
from deepgrad.tensor_str import tensor_str

allocator.tune()

Shape = tuple[int, ...]

_DTYPE_NAMES = {"float": "float32", "double": "float64", "long": "int64", "int": "int32",
                "bool": "bool", "half": "float16", "short": "int16", "byte": "uint8"}


def _normalize_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        dtype = _DTYPE_NAMES[dtype]
    if dtype is builtins.float:
        return backend.default_float_dtype()
    if dtype is builtins.int:
        return backend.int64
    return np.dtype(dtype)


def as_array(data: Any, dtype: Any = None) -> Any:
    """Turn user data (lists, scalars, arrays, tensors) into an array with torch's dtype rules:
    float input becomes the default float (float32) unless it already is float64,
    integer input int64, bool stays bool."""
    xp = backend.xp
    dt = _normalize_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._array
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        array = data
        if dt is None and array.dtype.kind in "iu" and array.dtype != np.uint8:
            dt = backend.int64
        elif dt is None and array.dtype == np.float16:
            dt = backend.default_float_dtype()
        return array.astype(dt, copy=False) if dt is not None else array
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d.tolist() if isinstance(d, Tensor) else d for d in data]
    try:
        array = xp.asarray(data)
    except ValueError as exc:
        raise ValueError(f"tensor: could not build a tensor from the data given: {exc}") from None
    if array.dtype.kind in "USO":
        raise TypeError(
            f"tensor: new(): invalid data type {type(data).__name__!r}; expected numbers, "
            f"nested lists of numbers or an array, got {array.dtype.kind!r}-kind data "
            f"{str(data)[:40]!r}")
    if dt is not None:
        return array.astype(dt, copy=False)
    if array.dtype.kind == "f":
        return array.astype(backend.default_float_dtype(), copy=False)
    if array.dtype.kind in "iu":
        return array.astype(backend.int64, copy=False)
    return array


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data)`` builds a float tensor from data and ``Tensor(2, 3)`` a
    zero-filled one of that shape, as ``torch.Tensor``; ``deepgrad.tensor(data)``
    infers the dtype. ``Tensor(array, _copy=False)`` wraps an array as it is
    (deepgrad's own ops use it).
    """

    __slots__ = ("_array", "_grad", "requires_grad", "grad_fn", "_version_counter",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    # Rarely set, so class-level defaults (an instance sets its own only when needed):
    # a tensor is created per op, and each attribute set there costs on small models.
    _hooks: list[Callable[[Tensor], Any]] = []  # never appended to: register_hook copies
    _retains_grad = False
    _accumulator: Any = None
    _base: Tensor | None = None
    _view_fn: Callable[[Any], Any] | None = None

    def __init__(self, data: Any = None, *sizes: Any, dtype: Any = None,
                 requires_grad: builtins.bool = False, _copy: builtins.bool = True) -> None:
        if _copy is False:
            array = data if dtype is None else data.astype(_normalize_dtype(dtype), copy=False)
        else:
            array = _constructor_array(data, sizes, dtype)
        self._array = array
        self._grad: Tensor | None = None
        self.grad_fn: Any = None
        self._version_counter = VersionCounter()
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- storage ----------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's memory as a new detached tensor (torch's ``.data``): changes through it
        change this tensor, but autograd does not track them (a version counter of its own)."""
        return Tensor(self._array, _copy=False)

    @data.setter
    def data(self, value: Any) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data: Variable data has to be a tensor, but got {type(value).__name__}")
        self._array = value._array

    @property
    def _version(self) -> builtins.int:
        """How many in-place changes this tensor's memory has seen (shared with its views)."""
        return self._version_counter.value

    @property
    def _is_view(self) -> builtins.bool:
        return self._base is not None

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (``None`` until then)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad expected to be a Tensor or None but got "
                                f"grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"grad: attempting to assign a gradient of size "
                                   f"'{list(value.shape)}' to a tensor of size "
                                   f"'{list(self.shape)}'. Please ensure that the gradient and "
                                   f"the tensor are the same size")
            if value.dtype != self.dtype:
                raise RuntimeError(f"grad: assigned grad has data of a different type: "
                                   f"{value.dtype} for a tensor of type {self.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    # ---- metadata ---------------------------------------------------------
    @property
    def shape(self) -> Size:
        """``deepgrad.Size``, a tuple (as ``torch.Size``)."""
        return tuple.__new__(Size, self._array.shape)

    @property
    def ndim(self) -> builtins.int:
        return int(self._array.ndim)

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def device(self) -> Any:
        from deepgrad import devices

        return devices.get_default_device()

    @property
    def is_cuda(self) -> builtins.bool:
        return False

    @property
    def is_leaf(self) -> builtins.bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> builtins.bool:
        return self._retains_grad

    @property
    def itemsize(self) -> builtins.int:
        return int(self._array.itemsize)

    @property
    def nbytes(self) -> builtins.int:
        return int(self._array.nbytes)

    def dim(self) -> builtins.int:
        return self.ndim

    def ndimension(self) -> builtins.int:
        return self.ndim

    def numel(self) -> builtins.int:
        return int(self._array.size)

    def nelement(self) -> builtins.int:
        return int(self._array.size)

    def element_size(self) -> builtins.int:
        return int(self._array.itemsize)

    def size(self, dim: builtins.int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def stride(self, dim: builtins.int | None = None) -> Any:
        """Strides in elements, as torch (NumPy's are in bytes)."""
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> builtins.int:
        return int(self._array.__array_interface__["data"][0])

    def untyped_storage(self) -> Any:
        """The array that owns this tensor's memory (views of one tensor share it)."""
        array = self._array
        while isinstance(array.base, np.ndarray):
            array = array.base
        return array

    def is_floating_point(self) -> builtins.bool:
        return self.dtype.kind == "f"

    def is_complex(self) -> builtins.bool:
        return self.dtype.kind == "c"

    def __len__(self) -> builtins.int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))  # type: ignore[index]

    def _repr_html_(self) -> str:
        """The notebook view: shape, dtype, statistics, NaN/Inf counts, a histogram or an
        image preview (``deepgrad.notebook.tensor_view``)."""
        from deepgrad.notebook.tensor_view import tensor_html

        return tensor_html(self)

    def __repr__(self) -> str:
        return tensor_str(backend.to_numpy(self._array),
                          default_dtype=backend.default_float_dtype(),
                          grad_fn=self.grad_fn.name() if self.grad_fn is not None else None,
                          requires_grad=self.requires_grad)

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __hash__(self) -> builtins.int:
        return id(self)

    def __bool__(self) -> builtins.bool:
        if self._array.size != 1:
            raise RuntimeError(
                f"bool(): a tensor with {self._array.size} elements has no single truth value")
        return bool(self._array)

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> builtins.int:
        return int(self.item())

    def __index__(self) -> builtins.int:
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """NumPy's view of this tensor: the shared array, or a copy when NumPy asks for one
        (``np.array(t)`` copies, ``np.asarray(t)`` does not)."""
        array = backend.to_numpy(self._array)
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __reduce_ex__(self, protocol: Any) -> Any:
        # copy.deepcopy and multiprocessing get a tensor with its own copy of the array.
        return (_rebuild_tensor, (np.array(self._array, copy=True), self.requires_grad))

    # ---- conversion -------------------------------------------------------
    def numpy(self, *, force: builtins.bool = False) -> np.ndarray:
        """The array this tensor views (shared memory, as torch); ``force`` copies."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "numpy(): can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy()")
        array = backend.to_numpy(self._array)
        return array.copy() if force else array

    def item(self) -> Any:
        if self._array.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self._array.size} elements cannot be converted to "
                f"Scalar (shape {tuple(self.shape)})")
        return self._array.reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self._array).tolist()

    def detach(self) -> Tensor:
        """The same memory and version counter, cut from the graph."""
        out = Tensor(self._array, _copy=False)
        out._version_counter = self._version_counter
        return out

    def detach_(self) -> Tensor:
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("detach_(): can't detach views in-place; use detach() instead")
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self, *, memory_format: Any = None) -> Tensor:
        from deepgrad.ops import elementwise
        return elementwise.Clone.apply(self)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Self when its memory is C-ordered already, else a (differentiable) copy."""
        if self._array.flags.c_contiguous:
            return self
        return self.clone()

    def is_contiguous(self, memory_format: Any = None) -> builtins.bool:
        return bool(self._array.flags.c_contiguous)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only Tensors of floating point dtype can require gradients; "
                f"this tensor has dtype {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False): you can only change requires_grad flags of leaf "
                "variables; use detach()")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad(): can't retain_grad on Tensor that has "
                                   "requires_grad=False")
            return
        self._retains_grad = True
        self.grad_fn.retained = weakref.ref(self)

    def register_hook(self, hook: Callable[[Tensor], Any]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a handle whose ``remove()`` removes it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "doesn't require gradient")
        if self.grad_fn is None:
            if "_hooks" not in self.__dict__:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = _node_hooks(self.grad_fn)
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def _grad_accumulator(self) -> Any:
        node = self._accumulator
        if node is None:
            node = self._accumulator = autograd.AccumulateGrad(self)
        return node

    def _grad_node(self) -> Any:
        """The graph node gradients for this tensor flow into: its ``grad_fn``, or the
        leaf's accumulator."""
        return self.grad_fn if self.grad_fn is not None else self._grad_accumulator()

    def backward(self, gradient: Any = None, retain_graph: builtins.bool | None = None,
                 create_graph: builtins.bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (only ``inputs``' if given)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    # ---- dtype and device -------------------------------------------------
    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def short(self) -> Tensor:
        return self.to(np.int16)

    def byte(self) -> Tensor:
        return self.to(backend.uint8)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return _type_name(self.dtype)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; the device must
        be the CPU (this backend is NumPy). ``copy=True`` always copies."""
        from deepgrad import devices

        dtype = kwargs.get("dtype")
        copy = builtins.bool(kwargs.get("copy", False))
        if kwargs.get("device") is not None:
            devices.check_device(kwargs["device"], "to")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, devices.device)):
                devices.check_device(a, "to")
            else:
                dtype = a
        dt = _normalize_dtype(dtype) if dtype is not None else self.dtype
        if dt == self.dtype:
            return self.clone() if copy else self
        from deepgrad.ops import elementwise
        return elementwise.cast(self, dt)

    def cpu(self, memory_format: Any = None) -> Tensor:
        return self

    def cuda(self, device: Any = None, non_blocking: builtins.bool = False) -> Tensor:
        from deepgrad import devices

        devices.check_device("cuda" if device is None else device, "cuda")
        return self

    def pin_memory(self) -> Tensor:
        return self

    def is_pinned(self) -> builtins.bool:
        return False

    def share_memory_(self) -> Tensor:
        return self

    # ---- new tensors like this one ---------------------------------------
    def _new(self, array: Any, dtype: Any, requires_grad: builtins.bool, device: Any) -> Tensor:
        from deepgrad import devices

        devices.check_device(device, "new_*")
        dt = _normalize_dtype(dtype) or self.dtype
        return Tensor(array.astype(dt, copy=False), requires_grad=requires_grad, _copy=False)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: builtins.bool = False) -> Tensor:
        return self._new(np.zeros(_shape_arg(size)), dtype, requires_grad, device)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> Tensor:
        return self._new(np.ones(_shape_arg(size)), dtype, requires_grad, device)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: builtins.bool = False) -> Tensor:
        return self._new(np.zeros(_shape_arg(size)), dtype, requires_grad, device)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> Tensor:
        return self._new(np.full(_shape_arg((size,)), fill_value), dtype, requires_grad, device)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: builtins.bool = False) -> Tensor:
        array = np.array(data._array if isinstance(data, Tensor) else data, copy=True)
        return self._new(array, dtype, requires_grad, device)


class _HookHandle:
    """What ``register_hook`` returns: ``handle.remove()``, and callable for older code."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __call__(self) -> None:
        self.remove()


def _node_hooks(node: Any) -> list[Any]:
    if node.hooks is None:
        node.hooks = []
    hooks: list[Any] = node.hooks
    return hooks


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}


def scalar_type_name(dtype: np.dtype) -> str:
    """torch's name of a dtype in messages ("Float", "Long")."""
    return _SCALAR_NAMES.get(str(dtype), str(dtype))


def _type_name(dtype: np.dtype) -> str:
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
             "uint8": "ByteTensor", "bool": "BoolTensor"}
    return "torch." + names.get(str(dtype), str(dtype))


def _constructor_array(data: Any, sizes: tuple[Any, ...], dtype: Any) -> Any:
    """``torch.Tensor(...)``: sizes give a zero-filled float tensor, data a float copy of it."""
    dt = _normalize_dtype(dtype) or backend.default_float_dtype()
    if data is None:
        return backend.xp.zeros((0,), dtype=dt)
    if sizes or (isinstance(data, (builtins.int, np.integer)) and not isinstance(data,
                                                                                 builtins.bool)):
        return backend.xp.zeros(_shape_arg((data, *sizes)), dtype=dt)
    if isinstance(data, Tensor) and dtype is None:
        return data._array
    return as_array(data, dt)


def _rebuild_tensor(array: Any, requires_grad: builtins.bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, _copy=False)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None,
           pin_memory: bool = False) -> Tensor:
    """Build a tensor from data, copying it (as ``torch.tensor``)."""
    from deepgrad.devices import check_device

    check_device(device, "tensor")
    array = as_array(data, dtype)
    source = data._array if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and np.may_share_memory(array, source):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad, _copy=False)


def from_numpy(array: np.ndarray) -> Tensor:
    """Share memory with a NumPy array (no copy, dtype kept as is)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return Tensor(array, _copy=False)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Share memory with ``data`` where it already is an array or tensor of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or _normalize_dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray):
        dt = _normalize_dtype(dtype)
        return Tensor(data if dt is None or dt == data.dtype else data.astype(dt), _copy=False)
    return tensor(data, dtype=dtype, device=device)


autograd.bind_tensor_class(Tensor)


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
