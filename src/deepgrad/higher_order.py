"""The graph-building backward: how a ``create_graph=True`` walk runs one node.

A first-order walk calls ``fn.backward(ctx, grad)`` on arrays. Here the gradient
is a Tensor, and the node's saved inputs and output come back as Tensors attached
to the graph (an input to the node that made it, the output to this very node),
so that whatever the backward computes is recorded and can be differentiated in
turn. An op says how its backward is differentiated (see ``Function``):

- ``differentiable_backward``: the formula, written with ``deepgrad.ops.dual``, runs
  on those Tensors unchanged;
- ``linear``: the op is linear in its tensor inputs, so its backward is a linear map
  too, whose own backward is the op's forward (``LinearBackward``);
- ``decomposition``: a fused op (convolution, pooling, normalisation, a fused loss)
  is written again in primitive ops, and the vector-Jacobian product of that
  expression is taken with ``create_graph`` -- the fast fused backward stays the
  first-order one.

Any other op refuses, by name: a silently constant second derivative is worse than
an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.autograd import AccumulateGrad, Context, Function, _check_versions, run_backward
from deepgrad.tensor import Tensor


class _Unpacked:
    """A node seen by its graph-building backward: the saved values as graph Tensors,
    every other attribute the node's own."""

    def __init__(self, ctx: Context, saved: tuple[Any, ...]) -> None:
        self._ctx = ctx
        self.saved_tensors = saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def _unpacked(ctx: Context) -> Any:
    return _Unpacked(ctx, _unpack_saved(ctx))


def graph_backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
    """The gradients of ``ctx``'s inputs as Tensors with a history (``None`` where none)."""
    fn = ctx.fn
    if not fn._on_arrays:
        grads = _user_function(ctx, grad)
    elif fn.decomposition is not None:
        return _decomposed(ctx, grad)
    elif fn.linear:
        values = fn.backward(ctx, grad._array)
        values = values if isinstance(values, tuple) else (values,)
        return tuple(None if v is None else LinearBackward.apply(grad, node=ctx, index=i,
                                                                  value=np.asarray(v))
                     for i, v in enumerate(values))
    elif fn.differentiable_backward:
        grads = fn.backward(_unpacked(ctx), grad)
    else:
        raise NotImplementedError(
            f"create_graph=True: the backward of {ctx.name()} cannot be differentiated "
            f"(deepgrad has no double backward for {fn.__name__} yet); compute this "
            f"gradient without create_graph, or express the op with differentiable ones")
    if type(grads) is not tuple:
        grads = (grads,)
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor(np.asarray(g), _copy=False)
                 for g in grads)


def _user_function(ctx: Context, grad: Tensor) -> Any:
    """A torch-style Function: its backward on Tensors, recording. A backward marked
    ``@once_differentiable`` runs unrecorded; as in torch, when the incoming gradient has a
    history its results stand in a node that refuses a further backward."""
    grads = ctx.fn.backward(_unpacked(ctx), grad)
    if not getattr(ctx.fn.backward, "_once_differentiable", False) or not grad.requires_grad:
        return grads
    return tuple(None if g is None else _DelayedError.apply(grad, value=g._array,
                                                             name=ctx.fn.__name__)
                 for g in (grads if isinstance(grads, tuple) else (grads,)))


class _DelayedError(Function):
    """Stands for a gradient computed by a ``@once_differentiable`` backward: it has the
    value, and differentiating it raises (torch's ``DelayedError``)."""

    @staticmethod
    def forward(ctx: Context, *inputs: Any, value: Any, name: str) -> Any:
        ctx.function = name
        return value

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise RuntimeError(
            f"trying to differentiate twice a function that was marked with "
            f"@once_differentiable ({ctx.function}.backward)")


def _unpack_saved(ctx: Context) -> tuple[Any, ...]:
    """The saved values as a backward on Tensors needs them: a saved input as a Tensor
    whose gradient flows to that input's node, the saved output as a Tensor of this node,
    and constants (masks, indices, non-tensor operands) as they are.

    So an op with ``differentiable_backward`` saves nothing else: a value computed from
    its inputs would come back as a constant and make the second derivative wrong
    (tests/core/test_higher_order.py checks every such op for it)."""
    origin = {id(entry[3]): entry[2] for entry in ctx.saved_versions}
    unpacked: list[Any] = []
    for saved in ctx.saved_tensors:
        array = saved._array if isinstance(saved, Tensor) else saved
        where = origin.get(id(array))
        if where is None:  # a constant: a non-tensor argument, a mask, indices
            unpacked.append(saved)
        elif where < 0:
            out = Tensor(array, _copy=False)
            out.requires_grad = True
            out.grad_fn = ctx
            unpacked.append(out)
        else:
            unpacked.append(input_proxy(ctx, where, array))
    return tuple(unpacked)


def input_proxy(ctx: Context, index: int, array: Any, fresh: bool = False) -> Tensor:
    """A Tensor on ``array`` (input ``index`` of ``ctx``) whose gradient flows where that
    input's does. ``fresh`` puts a node of its own in between, so that gradients to it can
    be told apart from gradients to the same input reached another way."""
    tensor = Tensor(array, _copy=False)
    edge = ctx.edges[index]
    node = None if edge is None else edge[0]
    if node is None:
        return tensor
    if fresh:
        alias = Context(_Alias)
        alias.needs_input_grad = (True,)
        alias.edges = ((node, array.shape),)
        node = alias
    tensor.requires_grad = True
    if type(node) is AccumulateGrad:
        tensor._accumulator = node
    else:
        tensor.grad_fn = node
    return tensor


class _Alias(Function):
    """The identity, as the node of an input proxy (see ``input_proxy``)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return (grad,)


class LinearBackward(Function):
    """The backward of a linear op, for one of its inputs, as an op of its own.

    For a linear ``y = L x`` the backward is ``g -> L^T g``, again linear, and its
    backward is ``gg -> L gg``: the op's own forward, with ``gg`` in that input's
    place, zeros in the other differentiable inputs' and the constants as they were.
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, grad: Any, node: Context, index: int, value: Any) -> Any:
        """``value`` is the op's backward of ``grad`` for this input, computed once for all
        inputs by the caller."""
        # Its own copy of what the op's forward needs: the op's node may be freed first.
        ctx.op, ctx.index, ctx.kwargs = node.fn, index, node.forward_kwargs
        ctx.args = node.forward_args  # the constants, None in the differentiable places
        ctx.zero_shapes = [edge[1] if need and edge is not None else None for edge, need in
                           zip(node.edges, node.needs_input_grad, strict=True)]
        return value

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        args = []
        for j, constant in enumerate(ctx.args):
            if j == ctx.index:
                args.append(grad)
            elif ctx.zero_shapes[j] is not None:
                args.append(np.zeros(ctx.zero_shapes[j], dtype=grad.dtype))
            else:
                args.append(constant)
        if isinstance(grad, Tensor):
            out: Any = ctx.op.apply(*args, **ctx.kwargs)
        else:
            out = np.asarray(ctx.op.forward(Context(ctx.op), *args, **ctx.kwargs))
        return (out,)


def _decomposed(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
    """The vector-Jacobian product of the op's decomposition, recorded."""
    _check_versions(ctx, ctx.input_versions)  # (run_backward has refused a freed node)
    inputs = [input_proxy(ctx, i, a, fresh=True) if ctx.edges[i] is not None else a
              for i, a in enumerate(ctx.forward_args)]
    assert ctx.fn.decomposition is not None
    out = ctx.fn.decomposition(*inputs, **ctx.forward_kwargs)
    if tuple(out.shape) != tuple(grad.shape):
        raise RuntimeError(f"{ctx.fn.__name__}.decomposition gave shape {tuple(out.shape)}, "
                           f"the op's output has {tuple(grad.shape)}")
    wanted = [(i, t) for i, t in enumerate(inputs)
              if ctx.needs_input_grad[i] and isinstance(t, Tensor) and t.requires_grad]
    if not out.requires_grad or not wanted:
        return (None,) * len(ctx.edges)
    found = run_backward([out], [grad], retain_graph=True, inputs=[t for _, t in wanted],
                         accumulate=False, create_graph=True, frontier=True)
    grads: list[Any] = [None] * len(ctx.edges)
    for (i, _), g in zip(wanted, found, strict=True):
        grads[i] = g
    return tuple(grads)
