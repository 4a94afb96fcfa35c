"""Reverse-mode automatic differentiation: ``Function`` nodes and the graph walk.

A ``Function`` computes on raw arrays: ``forward(ctx, *arrays) -> array`` and
``backward(ctx, grad) -> tuple`` (one gradient per input). ``Function.apply``
wires the graph: the output tensor's ``grad_fn`` is the ``Context`` of the call,
which remembers its inputs. ``backward`` walks that graph once, in a topological
order built without recursion, and accumulates gradients into the leaves.

A backward is written once and runs two ways (docs/higher-order.md). A first-order
walk hands it arrays and it computes with NumPy. A ``create_graph=True`` walk hands
it Tensors -- the gradient, and the saved inputs and output re-attached to the graph
-- and the same code, computing through ``deepgrad.ops.dual``, records a graph of
the backward itself, so gradients of gradients work to any order. Ops declare how
their backward can be differentiated: ``differentiable_backward`` (the formula is
written with ``dual``), ``linear`` (a linear op: the backward of its backward is its
forward) or ``decomposition`` (a fused op: differentiate its expression in
primitive ops); any other op refuses ``create_graph`` by name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad import backend

if TYPE_CHECKING:
    from deepgrad.tensor import Tensor

_tensor_class: Any = None  # deepgrad.tensor.Tensor, bound by that module (it imports this one)


def bind_tensor_class(cls: type) -> None:
    """Called once by ``deepgrad.tensor``: the hot paths here then skip an import per call."""
    global _tensor_class
    _tensor_class = cls


def _bound_tensor_class() -> Any:
    return _tensor_class
_anomaly_enabled = False
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # deepgrad/


class _ThreadGradMode(threading.local):
    """Grad mode is per thread, as in torch: a ``no_grad`` block in a DataLoader worker
    thread must not switch off recording in the training loop's thread."""

    enabled = True


_grad_mode = _ThreadGradMode()


def is_grad_enabled() -> bool:
    """Whether operations record a graph for backward (in the calling thread)."""
    return _grad_mode.enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad recording on or off in the current
    thread; the value to restore is kept per thread too (one decorated function may run in
    several threads at once)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: dict[int, list[bool]] = {}

    def _push(self) -> None:
        self._previous.setdefault(threading.get_ident(), []).append(_grad_mode.enabled)

    def _pop(self) -> None:
        stack = self._previous.get(threading.get_ident())
        if stack:
            _grad_mode.enabled = stack.pop()

    def __enter__(self) -> None:
        self._push()
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        self._pop()


def no_grad() -> _GradMode:
    """Build no graph inside: for evaluation and optimizer updates."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record a graph again inside a ``no_grad`` block."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - torch's name
    """``set_grad_enabled(False)`` is ``no_grad``; usable as a call, a context or a decorator."""

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        self._push()
        _grad_mode.enabled = bool(mode)

    def __enter__(self) -> None:
        pass


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


class VersionCounter:
    """How many times a tensor's memory was changed in place; shared by a tensor and its views.

    A saved tensor remembers the count it was saved at, and backward refuses to
    use it when the count moved on (torch's "modified by an inplace operation").
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Context:
    """One recorded call of a ``Function``: the node of the graph (``grad_fn``).

    Holds what backward needs: saved arrays, attributes set in forward, the
    ``edges`` to the nodes that made its inputs (``None`` where no gradient flows),
    and the version each saved input or output had when it was saved.
    """

    __slots__ = ("fn", "needs_input_grad", "__weakref__", "__dict__")

    # Class-level defaults, set on an instance only when needed (a context is made per op).
    # Per input: (the node its gradient goes to, or None, and its shape); None for
    # arguments that are not tensors.
    edges: tuple[tuple[Any, tuple[int, ...]] | None, ...] = ()
    saved_tensors: tuple[Any, ...] = ()
    saved_versions: tuple[tuple[Any, ...], ...] = ()
    hooks: list[Callable[[Tensor], Any]] | None = None
    retained: Any = None
    freed = False
    created_at = ""
    # Kept by linear and decomposed ops for a graph-building backward (see Function).
    forward_args: tuple[Any, ...] = ()
    forward_kwargs: dict[str, Any] = {}  # noqa: RUF012 - never mutated, replaced per op
    input_versions: tuple[tuple[Any, ...], ...] = ()

    def __init__(self, fn: type[Function]) -> None:
        self.fn = fn
        self.needs_input_grad: tuple[bool, ...] = ()

    if TYPE_CHECKING:  # ops keep their own attributes on the context (ctx.stride = ...)

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (tensors, in a user-defined Function) for backward; freed after it
        unless ``retain_graph``."""
        self.saved_tensors = arrays

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted for torch-style Functions; in-place inputs are versioned anyway."""

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for torch-style Functions (integer outputs never require grad here)."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for torch-style Functions: gradients always arrive materialized here."""

    def name(self) -> str:
        return self.fn.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes that feed this one, as torch: (node, 0) per input, (None, 0) where no
        gradient flows."""
        return tuple((None, 0) if edge is None else (edge[0], 0) for edge in self.edges)

    def register_hook(self, hook: Callable[[Tensor], Any]) -> None:
        """Call ``hook(grad)`` on the gradient arriving at this node's output."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The graph node of a leaf tensor that requires grad (as in torch).

    The leaf holds its node and the node refers back weakly, so neither keeps the
    other alive in a cycle (an input leaf's array is freed as soon as it is dropped).
    """

    __slots__ = ("_variable", "__weakref__")

    def __init__(self, variable: Tensor) -> None:
        self._variable = weakref.ref(variable)

    @property
    def variable(self) -> Tensor | None:
        return self._variable()

    next_functions: tuple[tuple[Any, int], ...] = ()
    edges: tuple[Any, ...] = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def _is_internal(cls: type) -> bool:
    return cls.__module__.startswith("deepgrad.")


class Function:
    """An op with a forward and a backward.

    deepgrad's own ops compute on raw arrays: ``forward(ctx, *arrays, **kwargs) ->
    array`` and ``backward(ctx, grad) -> array or tuple`` with one entry per
    positional argument of forward (``None`` where no gradient flows). A
    Function defined outside deepgrad (a user's, written for torch) sees Tensors
    instead, as in torch: its forward and backward get and return Tensors.

    A view op (reshape, permute, basic indexing...) sets ``view_fn``: given the
    context and the output shape, the function that takes an array shaped like
    the input to the same view of it. Its output then shares the input's memory
    and version counter, and an in-place change of the view updates the base's
    graph (torch's ``CopySlices``).
    """

    view_fn: Callable[[Context, tuple[int, ...]], Callable[[Any], Any]] | None = None
    _on_arrays = True
    # How a create_graph=True backward differentiates this op's backward (docs/higher-order.md):
    # the backward is written with ``deepgrad.ops.dual`` and runs on Tensors as it is,
    differentiable_backward = False
    # the op is linear in its tensor inputs (the other arguments are constants), so the
    # backward of its backward is its forward,
    linear = False
    # or, for a fused op, the same function written with primitive ops (Tensors in, out).
    decomposition: Callable[..., Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._on_arrays = _is_internal(cls)

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        Tensor = _bound_tensor_class()

        ctx = Context(cls)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = _grad_mode.enabled and any(needs)
        ctx.needs_input_grad = needs if record else (False,) * len(args)
        arrays = [a._array if isinstance(a, Tensor) else a for a in args]
        if cls._on_arrays:
            out = cls.forward(ctx, *arrays, **kwargs)
        else:
            out = _forward_on_tensors(cls, ctx, args, kwargs)
        if type(out) is not np.ndarray:  # NumPy turns 0-d results into scalars
            out = backend.xp.asarray(out)
        if _anomaly_enabled:
            ctx.created_at = _user_frame()
            _check_finite(cls.__name__, "forward output", [out], ctx.created_at)
        result = Tensor(out, _copy=False)
        if cls.view_fn is not None:
            _link_view(result, args[0], cls.view_fn(ctx, out.shape))
        if record and out.dtype.kind in "fc":
            if cls.linear or cls.decomposition is not None:
                _keep_forward_arguments(ctx, cls, args, arrays, needs, kwargs)
            edges: list[tuple[Any, tuple[int, ...]] | None] = []
            for a, need in zip(args, needs, strict=True):
                if need:
                    edges.append((a.grad_fn if a.grad_fn is not None else a._grad_accumulator(),
                                  a._array.shape))
                else:
                    edges.append((None, a._array.shape) if isinstance(a, Tensor) else None)
            ctx.edges = tuple(edges)
            if ctx.saved_tensors:
                ctx.saved_versions = _saved_versions(ctx.saved_tensors, args, result)
            result.requires_grad = True
            result.grad_fn = ctx
        return result


def _keep_forward_arguments(ctx: Context, cls: type[Function], args: Sequence[Any],
                            arrays: Sequence[Any], needs: Sequence[bool],
                            kwargs: dict[str, Any]) -> None:
    """What a graph-building backward needs to run the forward again: for a linear op its
    constant arguments (the differentiable ones are replaced then), for a decomposed op
    every argument, with the versions of the tensors among them."""
    ctx.forward_kwargs = kwargs
    if cls.linear:
        ctx.forward_args = tuple(None if need else a for a, need in zip(arrays, needs,
                                                                       strict=True))
        return
    ctx.forward_args = tuple(arrays)
    Tensor = _bound_tensor_class()
    ctx.input_versions = tuple(
        (a._version_counter, a._version_counter.value, i, a._array)
        for i, a in enumerate(args) if isinstance(a, Tensor))


def _forward_on_tensors(cls: type[Function], ctx: Context, args: Sequence[Any],
                        kwargs: dict[str, Any]) -> Any:
    """Run a user-defined (torch-style) forward on detached tensors, without a graph."""
    from deepgrad.tensor import Tensor

    inputs = [a.detach() if isinstance(a, Tensor) else a for a in args]
    with no_grad():
        out = cls.forward(ctx, *inputs, **kwargs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward must return a Tensor, got "
                        f"{type(out).__name__}")
    return out._array


def _link_view(result: Tensor, source: Any, view_fn: Callable[[Any], Any]) -> None:
    """Make ``result`` a view of ``source`` when its array really shares source's memory."""
    Tensor = _bound_tensor_class()

    if not isinstance(source, Tensor) or result._array.base is None \
            or not np.may_share_memory(result._array, source._array):
        return
    result._version_counter = source._version_counter
    parent_fn = source._view_fn
    result._base = source if source._base is None else source._base
    result._view_fn = view_fn if parent_fn is None else _compose(parent_fn, view_fn)


def _compose(first: Callable[[Any], Any], then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda array: then(first(array))


def _saved_versions(saved: Sequence[Any], args: Sequence[Any],
                    result: Tensor) -> tuple[tuple[Any, ...], ...]:
    """For each saved array that is (a view of) an input or the output: the version counter
    it belongs to, its version now, and where it came from (for the error message)."""
    Tensor = _bound_tensor_class()

    tracked: list[tuple[Any, ...]] = []
    out = result._array
    for s in saved:
        if s is out:
            tracked.append((result._version_counter, 0, -1, s))
            continue
        if type(s) is not np.ndarray:
            if not isinstance(s, Tensor):
                continue
            s = s._array
        # The input it *is* first: two inputs may be views of one buffer (x[:, 0] * x[:, 1]),
        # and a graph-building backward must give each saved input back as itself.
        match = next((i for i, a in enumerate(args) if isinstance(a, Tensor) and s is a._array),
                     None)
        if match is None and s.base is not None:
            match = next((i for i, a in enumerate(args) if isinstance(a, Tensor)
                          and np.may_share_memory(s, a._array)), None)
        if match is not None:
            counter = args[match]._version_counter
            tracked.append((counter, counter.value, match, args[match]._array))
    return tuple(tracked)


def _check_versions(ctx: Context, entries: Sequence[tuple[Any, ...]] | None = None) -> None:
    """Refuse a saved value (by default ``ctx.saved_versions``) changed in place since."""
    for counter, version, index, array in (ctx.saved_versions if entries is None else entries):
        if counter.value != version:
            where = "output 0" if index < 0 else f"input {index}"
            dtype, shape = array.dtype, array.shape
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{dtype} {list(shape)}], which is {where} of "
                f"{ctx.name()}, is at version {counter.value}; expected version {version} "
                f"instead. Hint: the in-place change (x.add_(...), x[...] = ..., x += ..., an "
                f"optimizer step) happened after the forward that saved it; use an "
                f"out-of-place op (x = x + ...) or .clone() the tensor first.")


def _topological_order(roots: Sequence[Any], wanted: set[int] | None = None,
                       frontier: bool = False) -> list[Any]:
    """Graph nodes reachable from ``roots`` (nodes), outputs first.

    Iterative depth-first search with an explicit stack, so a chain of many
    thousands of ops never touches Python's recursion limit. With ``wanted`` (ids
    of nodes), only the nodes on a path to one of them are kept, as torch's
    ``autograd.grad`` does: nothing beyond the inputs asked for is computed. With
    ``frontier`` the search does not even look past them (no wanted node lies beyond).
    """
    order: list[Any] = []
    visited: set[int] = set()
    useful: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if wanted is not None:
                    if id(node) not in wanted and not any(
                            e is not None and e[0] is not None and id(e[0]) in useful
                            for e in node.edges):
                        continue
                    useful.add(id(node))
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            if frontier and id(node) in wanted:  # type: ignore[operator]
                continue
            for edge in node.edges:
                if edge is not None and edge[0] is not None and id(edge[0]) not in visited:
                    stack.append((edge[0], False))
    order.reverse()
    return order


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if isinstance(grads, tuple) else (grads,)


def _run_hooks(hooks: Sequence[Callable[[Tensor], Any]], grad: Any) -> Any:
    """Hooks see a Tensor; on arrays (a first-order walk) the result is an array again."""
    Tensor = _bound_tensor_class()

    on_tensors = isinstance(grad, Tensor)
    for hook in hooks:
        replaced = hook(grad if on_tensors else Tensor(grad, _copy=False))
        if replaced is not None:
            if on_tensors:
                grad = replaced if isinstance(replaced, Tensor) else Tensor(replaced)
            else:
                grad = replaced._array if isinstance(replaced, Tensor) else replaced
    return grad


def _call_backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
    """A torch-style (user-defined) backward: Tensors in, Tensors out."""
    from deepgrad.tensor import Tensor

    out = _as_tuple(ctx.fn.backward(ctx, Tensor(grad, _copy=False)))
    return tuple(g._array if isinstance(g, Tensor) else g for g in out)


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    accumulate: bool = True,
    create_graph: bool = False,
    frontier: bool = False,
) -> list[Any]:
    """Walk the graph from ``roots`` once and route gradients to the leaves.

    With ``accumulate`` the leaves' ``.grad`` grow (``Tensor.backward``); with
    ``inputs`` the gradients of those tensors are returned instead
    (``autograd.grad``), leaving every ``.grad`` untouched. With ``create_graph``
    the gradients are Tensors and every backward records its own graph
    (``root_grads`` are Tensors then).
    """
    grads: dict[int, Any] = {}
    root_nodes = []
    for root, grad in zip(roots, root_grads, strict=True):
        node = root._grad_node()
        root_nodes.append(node)
        key = id(node)
        grads[key] = grad if key not in grads else grads[key] + grad
    wanted = {id(t._grad_node()): i for i, t in enumerate(inputs)} if inputs is not None else {}
    found: list[Any] = [None] * len(wanted)
    if create_graph:
        from deepgrad.higher_order import graph_backward
    pruned = inputs is not None and not accumulate
    order = _topological_order(root_nodes, set(wanted) if pruned else None, frontier)

    with _GradMode(create_graph):
        for node in order:
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if not create_graph and type(grad) is not np.ndarray:
                grad = backend.xp.asarray(grad)
            if type(node) is AccumulateGrad:
                variable = node._variable()
                if variable is None:  # the leaf was dropped: nobody to give a gradient to
                    continue
                if variable._hooks:
                    grad = _run_hooks(variable._hooks, grad)
                if id(node) in wanted:
                    found[wanted[id(node)]] = grad
                if accumulate:
                    owned = _sole_owner(grad)  # asked first: call arguments hold references
                    _accumulate_into(variable, grad, owned)
                continue
            ctx = node
            if ctx.hooks:
                grad = _run_hooks(ctx.hooks, grad)
            if id(ctx) in wanted:
                found[wanted[id(ctx)]] = grad
                if frontier:
                    continue
            if accumulate and ctx.retained is not None:
                retained = ctx.retained()
                if retained is not None:
                    _accumulate_into(retained, grad)
            if ctx.freed:
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time "
                    f"(through {ctx.name()}); its saved arrays were freed after the first "
                    f"backward. Call .backward(retain_graph=True) the first time if you "
                    f"need to backward twice."
                )
            if ctx.saved_versions:
                _check_versions(ctx)
            if create_graph:
                input_grads = graph_backward(ctx, grad)
            elif ctx.fn._on_arrays:
                input_grads = ctx.fn.backward(ctx, grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
            else:
                input_grads = _call_backward(ctx, grad)
            if len(input_grads) != len(ctx.edges):
                raise RuntimeError(
                    f"{ctx.fn.__name__}.backward returned {len(input_grads)} gradients, "
                    f"expected {len(ctx.edges)} (one per input)"
                )
            if _anomaly_enabled:
                _check_finite(ctx.fn.__name__, "backward gradient",
                              [getattr(g, "_array", g) for g in input_grads], ctx.created_at)
            if not retain_graph:
                ctx.saved_tensors = ()
                ctx.forward_args = ()
                ctx.freed = True
            for edge, parent_grad in zip(ctx.edges, input_grads, strict=True):
                if edge is None or parent_grad is None:
                    continue
                parent, shape = edge
                if parent is None:
                    continue
                if parent_grad.shape != shape:
                    raise RuntimeError(
                        f"{ctx.fn.__name__}.backward: gradient shape {tuple(parent_grad.shape)} "
                        f"does not match input shape {shape}"
                    )
                key = id(parent)
                previous = grads.get(key)
                grads[key] = parent_grad if previous is None else previous + parent_grad
            # Drop this node's references to its gradients, so that a leaf's gradient
            # held by ``grads`` alone can be adopted without a copy (``_sole_owner``).
            input_grads, parent_grad = (), None
    return found


def _refcount_of_a_local() -> int:
    probe = np.empty(0)
    return sys.getrefcount(probe)


_LOCAL_REFS = _refcount_of_a_local() if hasattr(sys, "getrefcount") else -1


def _sole_owner(grad: Any) -> bool:
    """True when nothing but the caller's local variable refers to ``grad`` or its
    memory, so ``.grad`` may adopt the array instead of copying it (torch steals a
    gradient whose use count is one the same way). A gradient routed unchanged through
    add or reshape, kept by a hook, or still saved by a node is referred to elsewhere and
    is copied."""
    if _LOCAL_REFS < 0 or type(grad) is not np.ndarray:
        return False
    if not (grad.flags.writeable and grad.flags.c_contiguous):
        return False
    # the caller's local + this argument (+ getrefcount's own) = one more than a local
    if sys.getrefcount(grad) != _LOCAL_REFS + 1:
        return False
    base = grad.base
    if base is None:
        return True
    # a view: its memory is free only if the view is the one thing holding its base
    # (held by the view and this local: one more than a local)
    return (type(base) is np.ndarray and base.base is None
            and sys.getrefcount(base) == _LOCAL_REFS + 1)


def _accumulate_into(tensor: Tensor, grad: Any, owned: bool = False) -> None:
    Tensor = _bound_tensor_class()

    if isinstance(grad, Tensor):  # create_graph: .grad is a Tensor with its own history
        if grad.dtype != tensor.dtype:
            grad = grad.to(tensor.dtype)
        tensor._grad = grad if tensor._grad is None else tensor._grad + grad
        return
    if grad.dtype != tensor.dtype:
        grad = grad.astype(tensor.dtype)
    current = tensor._grad
    if current is None:
        # Own the array: a gradient routed unchanged (add, reshape) may alias
        # another tensor's gradient, and optimizers update .grad in place. A
        # gradient nothing else refers to is adopted as it is (``owned``).
        tensor._grad = Tensor(grad if owned else grad.copy(), _copy=False)
    elif current._array.flags.writeable:
        current._array += grad
        current._version_counter.value += 1
    else:
        current._array = current._array + grad


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

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gouts: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gouts = [grad_outputs]
    else:
        gouts = list(grad_outputs)
    root_grads = [_initial_grad(o, g, "autograd.grad", create_graph)
                  for o, g in zip(outs, gouts, strict=True)]
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    keep = create_graph if retain_graph is None else bool(retain_graph)
    found = run_backward(outs, root_grads, keep, inputs=ins, accumulate=False,
                         create_graph=create_graph)
    result: list[Tensor | None] = []
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or isinstance(g, Tensor) else Tensor(g, _copy=False))
    return tuple(result)


def _initial_grad(output: Tensor, gradient: Any, where: str, create_graph: bool = False) -> Any:
    """The gradient a backward starts from: an array, or a Tensor for ``create_graph`` (a
    given gradient Tensor is kept as it is then, so the result can depend on it)."""
    from deepgrad.tensor import Tensor

    if create_graph:
        if isinstance(gradient, Tensor) and gradient.requires_grad:
            _initial_grad(output, gradient.detach(), where)  # the same checks
            return gradient if gradient.dtype == output.dtype else gradient.to(output.dtype)
        return Tensor(_initial_grad(output, gradient, where), _copy=False)

    if not output.requires_grad:
        raise RuntimeError(
            f"{where}: the tensor does not require grad and has no grad_fn; "
            f"did you forget requires_grad=True on an input, or run it under no_grad()?"
        )
    if gradient is None:
        if output._array.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs; "
                f"got shape {tuple(output.shape)}. Pass gradient= with that shape, "
                f"or reduce first (e.g. .sum())."
            )
        return backend.xp.ones_like(output._array)
    g = gradient._array if isinstance(gradient, Tensor) else backend.xp.asarray(gradient)
    if g.shape != output._array.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {tuple(g.shape)}, expected the output's shape "
            f"{tuple(output.shape)}"
        )
    return g.astype(output.dtype, copy=False)


def backward(
    tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
    retain_graph: bool | None = None, create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """``torch.autograd.backward``: backward from several outputs at once; with ``inputs``,
    only those tensors' ``.grad`` grow."""
    from deepgrad.tensor import Tensor

    outs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        gs = [grad_tensors] + [None] * (len(outs) - 1)
    else:
        gs = list(grad_tensors)
    roots = [_initial_grad(o, g, "backward", create_graph) for o, g in zip(outs, gs, strict=True)]
    keep = create_graph if retain_graph is None else bool(retain_graph)
    if inputs is None:
        run_backward(outs, roots, keep, create_graph=create_graph)
        return
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    found = run_backward(outs, roots, keep, inputs=ins, accumulate=False,
                         create_graph=create_graph)
    for tensor, g in zip(ins, found, strict=True):
        if g is not None:
            _accumulate_into(tensor, g)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """torch's old ``Variable``: since torch 0.4 a Variable is the tensor itself; this marks
    ``data`` as requiring grad when asked, and returns it."""
    if requires_grad:
        data.requires_grad_(True)
    return data


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """torch's marker for a custom Function whose backward cannot itself be differentiated:
    it runs without recording, and a ``create_graph=True`` backward through it refuses."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with no_grad():
            return fn(*args, **kwargs)

    wrapper._once_differentiable = True  # type: ignore[attr-defined]
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


def __getattr__(name: str) -> Any:
    """``autograd.functional``, ``autograd.gradcheck`` and ``autograd.gradgradcheck`` as in
    torch, imported on first use (they import the tensor module, which imports this one)."""
    import importlib

    if name == "functional":
        return importlib.import_module("deepgrad.autograd.functional")
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(importlib.import_module("deepgrad.gradcheck"), name)
    raise AttributeError(f"module 'deepgrad.autograd' has no attribute {name!r}")
