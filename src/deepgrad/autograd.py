"""Reverse-mode automatic differentiation: ``Function`` nodes and the graph walk.

A ``Function`` computes on raw arrays: ``forward(ctx, *arrays) -> array`` and
``backward(ctx, grad) -> tuple of arrays`` (one per input). ``Function.apply``
wires the graph: the output tensor's ``grad_fn`` is the ``Context`` of the call,
which remembers its inputs. ``backward`` walks that graph once, in a topological
order built without recursion, and accumulates gradients into the leaves.
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad import backend

if TYPE_CHECKING:
    from deepgrad.tensor import Tensor

_grad_enabled = True
_anomaly_enabled = False
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def is_grad_enabled() -> bool:
    """Whether operations record a graph for backward."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad recording on or off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()


def no_grad() -> _GradMode:
    """Build no graph inside: for evaluation and optimizer updates."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record a graph again inside a ``no_grad`` block."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - torch's name
    """``set_grad_enabled(False)`` is ``no_grad``; usable as a call, a context or a decorator."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        super().__init__(bool(mode))
        self._previous.append(_grad_enabled)
        _grad_enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        if self._previous:
            _grad_enabled = self._previous.pop()


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 - torch's name
    """While on, the first op whose forward or backward yields NaN/Inf raises,
    naming the op and the line of user code that created it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _anomaly_enabled
        self._previous.append(_anomaly_enabled)
        _anomaly_enabled = self.check_nan

    def __exit__(self, *exc: object) -> None:
        global _anomaly_enabled
        _anomaly_enabled = self._previous.pop()


def is_anomaly_enabled() -> bool:
    return _anomaly_enabled


class AnomalyError(RuntimeError):
    """Raised by ``detect_anomaly`` when an op produces NaN or Inf."""


def _user_frame() -> str:
    """The first stack frame outside deepgrad: where the user created the op."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def _check_finite(name: str, what: str, arrays: Sequence[Any], where: str) -> None:
    for array in arrays:
        if array is None or not np.issubdtype(array.dtype, np.inexact):
            continue
        if not np.isfinite(array).all():
            kind = "NaN" if np.isnan(array).any() else "Inf"
            raise AnomalyError(
                f"detect_anomaly: {name} produced {kind} in its {what}; "
                f"the op was created at {where}"
            )


class Context:
    """One recorded call of a ``Function``: the node of the graph (``grad_fn``).

    Holds what backward needs: saved arrays, attributes set in forward, the input
    tensors (to route gradients) and which of them need a gradient.
    """

    __slots__ = (
        "fn",
        "inputs",
        "needs_input_grad",
        "saved_tensors",
        "freed",
        "created_at",
        "__dict__",
    )

    def __init__(self, fn: type[Function]) -> None:
        self.fn = fn
        self.inputs: tuple[Tensor | None, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.saved_tensors: tuple[Any, ...] = ()
        self.freed = False
        self.created_at = ""

    if TYPE_CHECKING:  # ops keep their own attributes on the context (ctx.stride = ...)

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; freed after it unless ``retain_graph``."""
        self.saved_tensors = arrays

    def name(self) -> str:
        return self.fn.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes that feed this one, as torch: (node, 0) per input."""
        result: list[tuple[Any, int]] = []
        for tensor in self.inputs:
            if tensor is None or not tensor.requires_grad:
                result.append((None, 0))
            elif tensor.grad_fn is not None:
                result.append((tensor.grad_fn, 0))
            else:
                result.append((tensor._grad_accumulator(), 0))
        return tuple(result)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The graph node of a leaf tensor that requires grad (as in torch)."""

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        self.next_functions: tuple[tuple[Any, int], ...] = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Function:
    """An op with a forward and a backward on raw arrays.

    Subclasses define ``forward(ctx, *args, **kwargs) -> array`` and
    ``backward(ctx, grad) -> array or tuple`` with one entry per positional
    argument of forward (``None`` where no gradient flows).
    """

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        from deepgrad.tensor import Tensor

        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        ctx = Context(cls)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = _grad_enabled and any(needs)
        if record:
            ctx.needs_input_grad = needs
        else:
            ctx.needs_input_grad = (False,) * len(args)
        out = cls.forward(ctx, *arrays, **kwargs)
        if _anomaly_enabled:
            ctx.created_at = _user_frame()
            _check_finite(cls.__name__, "forward output", [out], ctx.created_at)
        result = Tensor(out, _copy=False)
        if record:
            ctx.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
            result.requires_grad = True
            result.grad_fn = ctx
        return result


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Non-leaf and leaf tensors reachable from ``roots``, outputs first.

    Iterative depth-first search with an explicit stack, so a chain of many
    thousands of ops never touches Python's recursion limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        stack: list[tuple[Tensor, bool]] = [(root, False)]
        while stack:
            tensor, expanded = stack.pop()
            if expanded:
                order.append(tensor)
                continue
            if id(tensor) in visited:
                continue
            visited.add(id(tensor))
            stack.append((tensor, True))
            ctx = tensor.grad_fn
            if ctx is not None:
                for parent in ctx.inputs:
                    if parent is not None and parent.requires_grad and id(parent) not in visited:
                        stack.append((parent, False))
    order.reverse()
    return order


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if isinstance(grads, tuple) else (grads,)


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    accumulate: bool = True,
) -> list[Any]:
    """Walk the graph from ``roots`` once and route gradients to the leaves.

    With ``accumulate`` the leaves' ``.grad`` grow (``Tensor.backward``); with
    ``inputs`` the gradients of those tensors are returned instead
    (``autograd.grad``), leaving every ``.grad`` untouched.
    """
    from deepgrad.tensor import Tensor

    grads: dict[int, Any] = {}
    for root, grad in zip(roots, root_grads, strict=True):
        key = id(root)
        grads[key] = grad if key not in grads else grads[key] + grad
    wanted = {id(t): i for i, t in enumerate(inputs)} if inputs is not None else {}
    found: list[Any] = [None] * len(wanted)

    with no_grad():
        for tensor in _topological_order(roots):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            for hook in tensor._hooks:
                replaced = hook(Tensor(grad, _copy=False))
                if replaced is not None:
                    grad = replaced.data if isinstance(replaced, Tensor) else replaced
            if id(tensor) in wanted:
                found[wanted[id(tensor)]] = grad
            ctx = tensor.grad_fn
            if ctx is None or tensor._retains_grad:
                if accumulate and (ctx is None or tensor._retains_grad):
                    _accumulate_into(tensor, grad)
                if ctx is None:
                    continue
            if ctx.freed:
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time "
                    f"(through {ctx.name()}); its saved arrays were freed after the first "
                    f"backward. Call .backward(retain_graph=True) the first time if you "
                    f"need to backward twice."
                )
            input_grads = _as_tuple(ctx.fn.backward(ctx, grad))
            if len(input_grads) != len(ctx.inputs):
                raise RuntimeError(
                    f"{ctx.fn.__name__}.backward returned {len(input_grads)} gradients, "
                    f"expected {len(ctx.inputs)} (one per input)"
                )
            if _anomaly_enabled:
                _check_finite(ctx.fn.__name__, "backward gradient", input_grads, ctx.created_at)
            if not retain_graph:
                ctx.saved_tensors = ()
                ctx.freed = True
            for parent, parent_grad in zip(ctx.inputs, input_grads, strict=True):
                if parent is None or parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    raise RuntimeError(
                        f"{ctx.fn.__name__}.backward: gradient shape {parent_grad.shape} "
                        f"does not match input shape {parent.shape}"
                    )
                key = id(parent)
                previous = grads.get(key)
                grads[key] = parent_grad if previous is None else previous + parent_grad
    return found


def _accumulate_into(tensor: Tensor, grad: Any) -> None:
    from deepgrad.tensor import Tensor

    if grad.dtype != tensor.dtype:
        grad = grad.astype(tensor.dtype)
    if tensor.grad is None:
        # Own the array: a gradient routed unchanged (add, reshape) may alias
        # another tensor's gradient, and optimizers update .grad in place.
        tensor.grad = Tensor(grad.copy(), _copy=False)
    elif tensor.grad.data.flags.writeable:
        tensor.grad.data += grad
    else:
        tensor.grad.data = tensor.grad.data + grad


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``."""
    from deepgrad.tensor import Tensor

    if create_graph:
        raise NotImplementedError(
            "autograd.grad: create_graph=True (double backward) is not supported")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gouts: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gouts = [grad_outputs]
    else:
        gouts = list(grad_outputs)
    root_grads = [_initial_grad(o, g, "autograd.grad") for o, g in zip(outs, gouts, strict=True)]
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    found = run_backward(outs, root_grads, bool(retain_graph), inputs=ins, accumulate=False)
    result: list[Tensor | None] = []
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else Tensor(g, _copy=False))
    return tuple(result)


def _initial_grad(output: Tensor, gradient: Any, where: str) -> Any:
    from deepgrad.tensor import Tensor

    if not output.requires_grad:
        raise RuntimeError(
            f"{where}: the tensor does not require grad and has no grad_fn; "
            f"did you forget requires_grad=True on an input, or run it under no_grad()?"
        )
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs; "
                f"got shape {tuple(output.shape)}. Pass gradient= with that shape, "
                f"or reduce first (e.g. .sum())."
            )
        return backend.xp.ones_like(output.data)
    g = gradient.data if isinstance(gradient, Tensor) else backend.xp.asarray(gradient)
    if g.shape != output.data.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {tuple(g.shape)}, expected the output's shape "
            f"{tuple(output.shape)}"
        )
    return g.astype(output.dtype, copy=False)


def backward(
    tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None, retain_graph: bool = False
) -> None:
    """``torch.autograd.backward``: backward from several outputs at once."""
    from deepgrad.tensor import Tensor

    outs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    gs = [None] * len(outs) if grad_tensors is None else list(grad_tensors)
    roots = [_initial_grad(o, g, "backward") for o, g in zip(outs, gs, strict=True)]
    run_backward(outs, roots, retain_graph)


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marker kept for torch-compatible custom Functions (backward is never differentiated here)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def graph_nodes(root: Tensor) -> Iterator[Any]:
    """Every node reachable from ``root.grad_fn`` once, outputs first (for drawing)."""
    seen: set[int] = set()
    stack = [root.grad_fn] if root.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        for child, _ in node.next_functions:
            if child is not None:
                stack.append(child)
