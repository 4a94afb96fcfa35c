"""``Module``: the base class of every layer and model, with PyTorch's semantics.

Assigning a ``Parameter``, a ``Module`` or a registered buffer to an attribute
registers it, in assignment order (reassigning keeps the place, as in torch),
so ``named_parameters()`` yields ``features.0.weight``-style names in a stable
order and ``state_dict()`` / ``load_state_dict()`` line up with torch's.
``__call__`` runs ``forward`` directly when no hook is registered: it is on the
hot path and adds one attribute test.
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.nn.parameter import Buffer, Parameter
from deepgrad.tensor import Tensor, _normalize_dtype

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: OrderedDict[int, Any], owner: Module | None = None) -> None:
        self.id = next(_hook_ids)
        self._hooks = hooks
        self._owner = owner

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        if self._owner is not None:
            self._owner._refresh_has_hooks()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _as_array(value: Any) -> Any:
    """A state-dict value (deepgrad/torch tensor, NumPy array, number) as an array."""
    if isinstance(value, Tensor):
        return value._array
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class for layers and models: subclass it, assign layers in ``__init__``,
    define ``forward``. Calling the module runs ``forward`` (and any hooks)."""

    training: bool
    _version: int = 1

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_has_hooks"] = False

    # ---- calling ------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._has_hooks:
            return self._call_with_hooks(args, kwargs)
        try:
            return self.forward(*args, **kwargs)
        except (RuntimeError, ValueError, TypeError, IndexError) as error:
            _locate_error(error, self)
            raise

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = list(self._backward_hooks.values())
        if backward_hooks and autograd.is_grad_enabled():
            args, state = _BackwardHookState.wrap_inputs(self, backward_hooks, args)
        else:
            state = None
        try:
            output = self.forward(*args, **kwargs)
        except (RuntimeError, ValueError, TypeError, IndexError) as error:
            _locate_error(error, self)
            raise
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if state is not None:
            state.watch_outputs(output)
        return output

    # ---- hooks ----------------------------------------------------------------
    def _refresh_has_hooks(self) -> None:
        self.__dict__["_has_hooks"] = bool(
            self._forward_pre_hooks or self._forward_hooks or self._backward_hooks)

    def _add_hook(self, table: OrderedDict[int, Any], hook: Callable[..., Any],
                  prepend: bool = False) -> RemovableHandle:
        handle = RemovableHandle(table, self)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        self._refresh_has_hooks()
        return handle

    def register_forward_pre_hook(self, hook: Callable[..., Any], *,
                                  prepend: bool = False) -> RemovableHandle:
        """``hook(module, args)`` before forward; may return new args (a tuple or one value)."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook: Callable[..., Any], *,
                              prepend: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` after forward; may return a replacement output.
        The way to capture activations (feature maps) without editing the model."""
        return self._add_hook(self._forward_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any], *,
                                    prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's tensor inputs are known (``None`` for inputs that need no grad); may
        return a tuple replacing ``grad_input``. Built on ``Tensor.register_hook``."""
        return self._add_hook(self._backward_hooks, hook, prepend)

    register_backward_hook = register_full_backward_hook

    # ---- registration ---------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    f"cannot assign parameter {name!r} before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__")
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__} (deepgrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError(
                    f"cannot assign module {name!r} before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__")
            self._forget(name, keep=modules)
            modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} of "
                    f"{type(self).__name__} (deepgrad.nn.Module or None expected)")
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            if d.get("_buffers") is None:
                raise AttributeError(f"cannot assign buffer {name!r} before Module.__init__()")
            self._forget(name, keep=d["_buffers"])
            self.register_buffer(name, value, persistent=value.persistent)
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (deepgrad.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict[str, Any]) -> None:
        """Drop ``name`` from every registry but ``keep`` (an attribute has one home)."""
        d = self.__dict__
        d.pop(name, None)
        for table in (d["_parameters"], d["_buffers"], d["_modules"]):
            if table is not keep:
                table.pop(name, None)
        if keep is not d["_buffers"]:
            d["_non_persistent_buffers"].discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: parameters, buffers, modules.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            entries = d.get(table)
            if entries is not None and name in entries:
                return entries[name]
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: did "
                f"{type(self).__name__}.__init__ forget to call super().__init__()?")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if name in d.get(table, ()):
                del d[table][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(super().__dir__()) | set(extra))

    def _check_name(self, kind: str, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{kind} name can't contain '.' or be empty, got {name!r}")
        if hasattr(type(self), name):
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder, e.g. a layer without bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name)
        if name in self.__dict__:
            raise KeyError(f"attribute {name!r} already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} object to parameter "
                            f"{name!r} (deepgrad.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add state that is not trained but is saved (BatchNorm's running mean);
        ``persistent=False`` keeps it out of ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name)
        if name in self.__dict__ or name in self._parameters or name in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            if isinstance(tensor, np.ndarray):
                tensor = Tensor(tensor, _copy=False)
            else:
                raise TypeError(f"cannot assign {type(tensor).__name__} object to buffer "
                                f"{name!r} (deepgrad.Tensor or None required)")
        if isinstance(tensor, Buffer):
            tensor = Tensor(tensor._array, _copy=False)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"module name can't contain '.' or be empty, got {name!r}")
        if hasattr(type(self), name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path (``"features.0"``); ``""`` is self."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{module._get_name()} has no submodule {part!r} "
                                     f"(looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters or module._parameters[name] is None:
            raise AttributeError(f"{module._get_name()} has no parameter {name!r}")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers or module._buffers[name] is None:
            raise AttributeError(f"{module._get_name()} has no buffer {name!r}")
        return module._buffers[name]

    # ---- traversal ------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for self and every descendant, depth first, each once."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = memo if memo is not None else set()
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen: set[int] = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` in registration order; a shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # ---- modes and bulk changes -------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, batch norm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``. It does not turn off autograd (use ``no_grad``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default, as torch) or to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad._array = np.zeros_like(param.grad._array)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) then self: custom init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _apply_to_arrays(self, convert: Callable[[Any], Any]) -> Module:
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param._array = convert(param._array)
                    if param.grad is not None:
                        param.grad._array = convert(param.grad._array)
            for name, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[name]._array = convert(buf._array)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(dtype)`` converts floating parameters and buffers; device names ("cpu")
        ("cpu", ``device("cpu")``) are accepted; an accelerator is refused with the reason."""
        from deepgrad import devices

        dtype = kwargs.get("dtype")
        if kwargs.get("device") is not None:
            devices.check_device(kwargs["device"], "Module.to")
        for a in args:
            if isinstance(a, (str, devices.device)):
                devices.check_device(a, "Module.to")
                continue
            dtype = a.dtype if isinstance(a, Tensor) else a
        if dtype is None:
            return self
        dt = _normalize_dtype(dtype)
        if dt is None or dt.kind != "f":
            raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dtype}")
        return self._apply_to_arrays(
            lambda a: a.astype(dt) if a.dtype.kind == "f" and a.dtype != dt else a)

    def float(self) -> Module:
        return self.to(backend.float32)

    def double(self) -> Module:
        return self.to(backend.float64)

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        from deepgrad import devices

        devices.check_device("cuda" if device is None else device, "Module.cuda")
        return self

    def type(self, dst_type: Any) -> Module:
        return self.to(dst_type)

    # ---- state ------------------------------------------------------------------
    def state_dict(self, destination: OrderedDict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, in registration order.

        Values are detached tensors on the parameters' own memory (shared, not copied, as
        torch's): ``copy.deepcopy`` it, or ``clone()`` the values, to keep a snapshot while
        training goes on. ``keep_vars=True`` gives the Parameters and buffer tensors.
        """
        result: OrderedDict[str, Any] = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    result[dot + name] = param if keep_vars else param.detach()
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers:
                    result[dot + name] = buf if keep_vars else buf.detach()
        return result

    def _state_entries(self) -> OrderedDict[str, Tensor]:
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict: Any, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy arrays (NumPy, deepgrad or torch tensors) into the parameters and buffers.

        Values are copied into the existing arrays and keep the model's dtype. Shape
        mismatches always raise; with ``strict`` (default) missing and unexpected keys
        raise too, all listed by name in one error.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        for name, module in self.named_modules():
            key = name + ("." if name else "") + "weight"
            if hasattr(module, "materialize_from") and key in state_dict:  # a lazy layer
                module.materialize_from(tuple(_as_array(state_dict[key]).shape))
        own = self._state_entries()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors: list[str] = []
        converted: dict[str, Any] = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            try:
                value = _as_array(state_dict[key])
            except Exception as error:  # noqa: BLE001 - reported with the key below
                errors.append(f'could not read "{key}" ({type(state_dict[key]).__name__}): '
                              f"{error}")
                continue
            if tuple(value.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}.")
                continue
            if value.dtype.kind not in "biuf":
                errors.append(f"dtype mismatch for {key}: cannot load dtype {value.dtype}")
                continue
            converted[key] = value
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        with autograd.no_grad():
            for key, value in converted.items():
                target = own[key]
                if assign:
                    target._array = backend.xp.array(value, dtype=target.dtype)
                elif target._array.flags.writeable:
                    np.copyto(target._array, value, casting="unsafe")
                else:
                    target._array = backend.xp.array(value, dtype=target.dtype)
                target._version_counter.value += 1
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike[str]) -> None:
        """``deepgrad.save(self.state_dict(), path)``: a safetensors checkpoint."""
        from deepgrad.serialization import save

        save(self.state_dict(), path)

    def load(self, path: str | os.PathLike[str], strict: bool = True) -> Module:
        """Load a checkpoint written by ``save`` into this model; returns self."""
        from deepgrad.serialization import load

        self.load_state_dict(load(path), strict=strict)
        return self

    # ---- printing ---------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Layer(...)``; override in layers."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _repr_html_(self) -> str:
        """Jupyter's view: the layer tree with settings and parameter counts."""
        from deepgrad.notebook.module_view import module_html

        return module_html(self)


def _locate_error(error: BaseException, module: Module) -> None:
    """Name the layer that failed in the error message, as a dotted path from the
    outermost module called (``fc1 (Linear)``). Each enclosing ``__call__`` rewrites
    the suffix, so the last one (the model) gives the full path."""
    args = error.args
    if len(args) != 1 or not isinstance(args[0], str):
        return
    state = getattr(error, "_deepgrad_layer", None)
    if state is None:
        try:
            error._deepgrad_layer = (module, args[0])  # type: ignore[attr-defined]
        except AttributeError:  # exceptions that refuse new attributes
            pass
        return
    culprit, message = state
    if culprit is module:
        return
    for path, sub in module.named_modules():
        if sub is culprit and path:
            error.args = (f"{message}\n  (raised in layer {path!r}: {culprit._get_name()}, "
                          f"inside {module._get_name()})",)
            return


class _BackwardHookState:
    """Collects one call's gradients for ``register_full_backward_hook``.

    Tensor inputs that need grad are passed through an identity op so their
    gradient can be watched without touching the caller's tensors; the output's
    gradient arrives first, then the inputs'; once all are in, the hooks run and
    may replace the input gradients.
    """

    def __init__(self, module: Module, hooks: list[Callable[..., Any]], n_inputs: int) -> None:
        self.module = module
        self.hooks = hooks
        self.grad_inputs: list[Any] = [None] * n_inputs
        self.pending: set[int] = set()
        self.grad_outputs: tuple[Any, ...] | None = None
        self.n_outputs = 0
        self.out_grads: dict[int, Any] = {}
        self.n_watched = 0

    @classmethod
    def wrap_inputs(cls, module: Module, hooks: list[Callable[..., Any]],
                    args: tuple[Any, ...]) -> tuple[tuple[Any, ...], _BackwardHookState]:
        from deepgrad.ops.elementwise import Clone

        state = cls(module, hooks, len(args))
        new_args = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                wrapped = Clone.apply(a)
                state.pending.add(i)
                wrapped.register_hook(state._input_hook(i))
                new_args[i] = wrapped
        state.n_watched = len(state.pending)
        return tuple(new_args), state

    def watch_outputs(self, output: Any) -> None:
        outs = output if isinstance(output, (tuple, list)) else (output,)
        tensors = [o for o in outs if isinstance(o, Tensor) and o.requires_grad]
        self.n_outputs = len(tensors)
        for j, tensor in enumerate(tensors):
            tensor.register_hook(self._output_hook(j))

    def _output_hook(self, j: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            self.out_grads[j] = grad
            if len(self.out_grads) == self.n_outputs:
                self.grad_outputs = tuple(self.out_grads[k] for k in range(self.n_outputs))
                if not self.pending:
                    self._fire()
        return hook

    def _input_hook(self, i: int) -> Callable[[Tensor], Any]:
        def hook(grad: Tensor) -> Any:
            self.grad_inputs[i] = grad
            self.pending.discard(i)
            if not self.pending:
                replaced = self._fire()
                if replaced is not None:
                    if self.n_watched > 1:
                        raise RuntimeError(
                            f"backward hook on {self.module._get_name()}: replacing grad_input "
                            f"is supported for modules with one tensor input that needs grad; "
                            f"this call had {self.n_watched}")
                    return replaced[i]
            return None
        return hook

    def _fire(self) -> tuple[Any, ...] | None:
        grad_input = tuple(self.grad_inputs)
        grad_output = self.grad_outputs if self.grad_outputs is not None else ()
        replaced = None
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook on {self.module._get_name()} returned "
                        f"{len(result)} gradients, expected {len(grad_input)}")
                grad_input = tuple(result)
                replaced = grad_input
        return replaced
