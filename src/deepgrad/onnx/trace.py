"""Recording one run of a model's forward, op by op, for export.

Every deepgrad op goes through ``Function.apply``; while a ``Recorder`` is on, a thin
wrapper around it notes each call: the op's class, the arguments exactly as the op
received them (tensors, raw arrays, numbers), its keyword attributes (``stride``,
``padding``, ``axis``, ``shape``...) and the tensor it returned, with the module that
was running and the line of user code that made the call (for error messages).

Why the calls and not the autograd graph: the graph keeps what *backward* needs, which
is not what the forward computed. ``x + 1`` stores only the two shapes (the 1 is gone),
an input that needs no gradient is an empty edge (its values and identity are gone, e.g.
embedding ids or a mask), and the saved arrays are private to each op and are being
renamed by the backward rewrite. The arguments of ``apply`` are the op's forward
signature, its public contract.

Layers with a whole ONNX counterpart (``LSTM``...) are recorded as one ``ModuleCall``
(their ``forward`` is wrapped for the recording); the ops they run inside are not
recorded. Forward hooks keep the path of the running module for node names and errors.
"""

from __future__ import annotations

import inspect
import os
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from deepgrad.autograd import Function
from deepgrad.tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_lock = threading.Lock()  # one recording at a time: the wrapper is process-wide
_active: Recorder | None = None


@dataclass(eq=False)
class OpCall:
    """One call of ``Function.apply``."""

    fn: type[Function]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: Tensor
    module: str  # dotted path of the innermost running module ("" at the top)
    where: str  # the line of user code that made the call
    # The output's node and version when it was made: an in-place op later gives the same
    # tensor object a new node and version (see ``values``).
    state: tuple[Any, int] = (None, 0)

    @property
    def name(self) -> str:
        return self.fn.__name__

    def params(self) -> dict[str, Any]:
        """The forward's parameters by name (positional and keyword, defaults filled in),
        without the leading ``ctx``."""
        try:
            bound = inspect.signature(self.fn.forward).bind(None, *self.args, **self.kwargs)
        except TypeError:  # a forward taking *args: only the keywords have names
            return dict(self.kwargs)
        bound.apply_defaults()
        names = list(bound.arguments)
        return {n: bound.arguments[n] for n in names[1:]}


@dataclass(eq=False)
class ModuleCall:
    """A whole layer exported as one ONNX node group (see ``recurrent``)."""

    module: Any
    path: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: Any = None
    where: str = ""
    states: list[tuple[Any, int]] = field(default_factory=list)  # per output tensor

    @property
    def name(self) -> str:
        return type(self.module).__name__


Call = OpCall | ModuleCall


@dataclass
class Recorder:
    """The calls of one forward, in order."""

    whole: tuple[type, ...]  # module classes recorded as one ModuleCall
    calls: list[Call] = field(default_factory=list)
    thread: int = field(default_factory=threading.get_ident)
    stack: list[str] = field(default_factory=list)
    hidden: int = 0  # > 0 inside a ModuleCall: its ops are not recorded

    def module_path(self) -> str:
        return self.stack[-1] if self.stack else ""


def _user_frame() -> str:
    """The innermost stack frame outside deepgrad: where the user's code made the op."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"
    return "<inside deepgrad>"


_original_apply = Function.__dict__["apply"]


def _recording_apply(cls: type[Function], *args: Any, **kwargs: Any) -> Tensor:
    rec = _active
    if rec is None or threading.get_ident() != rec.thread:
        return _original_apply.__func__(cls, *args, **kwargs)  # type: ignore[no-any-return]
    if rec.hidden == 0 and not cls.__module__.startswith("deepgrad."):
        # A user's (torch-style) Function runs deepgrad ops on detached tensors inside its
        # forward: it is recorded as one op (with no mapping), not as those ops.
        rec.hidden += 1
        try:
            out = _original_apply.__func__(cls, *args, **kwargs)
        finally:
            rec.hidden -= 1
    else:
        out = _original_apply.__func__(cls, *args, **kwargs)
    if rec.hidden == 0:
        rec.calls.append(OpCall(cls, args, kwargs, out, rec.module_path(), _user_frame(),
                                (out.grad_fn, out._version)))
    return out  # type: ignore[no-any-return]


@contextmanager
def recording(model: Any, whole: tuple[type, ...]) -> Iterator[Recorder]:
    """Record every op the calling thread runs inside the block (one export at a time)."""
    global _active
    rec = Recorder(whole)
    handles = []
    wrapped: list[tuple[Any, Any]] = []
    for path, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(_enter(rec, path)))
        handles.append(module.register_forward_hook(_leave(rec)))
        if isinstance(module, whole):
            wrapped.append((module, module.__dict__.get("forward")))
            module.__dict__["forward"] = _whole(rec, module, path)
    with _lock:
        Function.apply = classmethod(_recording_apply)  # type: ignore[method-assign,assignment]
        _active = rec
        try:
            yield rec
        finally:
            _active = None
            Function.apply = _original_apply  # type: ignore[method-assign]
            for handle in handles:
                handle.remove()
            for module, previous in wrapped:
                if previous is None:
                    module.__dict__.pop("forward", None)
                else:
                    module.__dict__["forward"] = previous


def _whole(rec: Recorder, module: Any, path: str) -> Any:
    """``module.forward`` recorded as one ``ModuleCall`` (arguments, keywords, output)."""
    original = module.forward  # read before the wrapper replaces it

    def forward(*args: Any, **kwargs: Any) -> Any:
        if rec.hidden or threading.get_ident() != rec.thread:
            return original(*args, **kwargs)
        call = ModuleCall(module, path, args, kwargs, where=_user_frame())
        rec.calls.append(call)
        rec.hidden += 1
        try:
            call.out = original(*args, **kwargs)
        finally:
            rec.hidden -= 1
        call.states = [(t.grad_fn, t._version) for t in tensors_in(call.out)]
        return call.out

    return forward


def tensors_in(value: Any) -> list[Tensor]:
    """The tensors of an output (a tensor, or tuples, lists and dicts of them), in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


def _enter(rec: Recorder, path: str) -> Any:
    def hook(module: Any, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == rec.thread:
            rec.stack.append(path)

    return hook


def _leave(rec: Recorder) -> Any:
    def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
        if threading.get_ident() == rec.thread and rec.stack:
            rec.stack.pop()

    return hook
