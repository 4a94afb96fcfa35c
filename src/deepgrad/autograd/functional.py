"""``torch.autograd.functional``: derivatives of a function, not of a graph already built.

Each takes ``func`` and its ``inputs`` (a Tensor or a tuple of Tensors) and returns
results in the same structure as torch: a Tensor where the inputs (or outputs) were
one Tensor, tuples where they were tuples. They are built on ``autograd.grad``:

- ``vjp``: one backward, ``v^T J``;
- ``jvp``: ``J v`` by the double-vjp trick (the vjp is linear in its cotangent ``u``,
  so differentiating ``u -> u^T J`` along ``v`` gives ``J v``);
- ``jacobian``: one vjp per output element (reverse mode);
- ``hessian``: the jacobian of the gradient;
- ``vhp``: ``v^T H``, the gradient of ``<grad f, v>``; ``hvp``: ``H v``, by the same
  double-vjp trick on the gradient (equal to ``vhp`` for a function twice
  continuously differentiable, where ``H`` is symmetric).

Without ``create_graph`` the results are detached; with it they keep their history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deepgrad import autograd
from deepgrad.ops.creation import ones_like, zeros, zeros_like
from deepgrad.tensor import Tensor

Inputs = Tensor | Sequence[Tensor]


def _as_tuple(value: Any, what: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """``(was_tuple, values)``, refusing anything but a Tensor or a tuple of Tensors."""
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the value at index {i} has type {type(v)}.")
    return is_tuple, values


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs that require grad, as torch: a view (keeping their history) under
    ``create_graph``, detached copies of the reference otherwise."""
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x))
        else:
            prepared.append(x.detach().requires_grad_(True))
    return tuple(prepared)


def _finish(values: Sequence[Tensor | None], like: Sequence[Tensor], create_graph: bool,
            strict: bool, fn_name: str, what: str = "input") -> tuple[Tensor, ...]:
    """Zeros where an input was unused (an error in strict mode); detached unless
    ``create_graph``."""
    out = []
    for i, (g, x) in enumerate(zip(values, like, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of {what} {i}. "
                    f"This is not allowed in strict mode (in {fn_name}).")
            g = zeros_like(x)
        out.append(g if create_graph else g.detach())
    return tuple(out)



def _check_v(v: Any, like: tuple[Tensor, ...], fn_name: str, what: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {what} to the user-provided function "
                f"is a single Tensor with a single element (in {fn_name}).")
        return (ones_like(like[0]),)
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                           f"{len(vs)} (in {fn_name}).")
    for i, (a, b) in enumerate(zip(vs, like, strict=True)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {tuple(b.shape)} "
                               f"but got {tuple(a.shape)} (in {fn_name}).")
    return vs



def _outputs(func: Callable[..., Any], inputs: tuple[Tensor, ...],
             fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    return _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)


def _grad(outputs: Sequence[Tensor | None], inputs: Sequence[Tensor],
          grad_outputs: Sequence[Any], create_graph: bool) -> tuple[Tensor | None, ...]:
    """``autograd.grad`` that allows outputs which are None or do not require grad (they
    contribute nothing) and unused inputs."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return autograd.grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                         retain_graph=True, create_graph=create_graph, allow_unused=True)


def _shape(is_tuple: bool, values: tuple[Any, ...]) -> Any:
    return values if is_tuple else values[0]


def vjp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    with autograd.enable_grad():
        xs = _prepare(xs, create_graph)
        out_tuple, outs = _outputs(func, xs, "vjp")
        vs = _check_v(v, outs, "vjp", "outputs")
        grads = _grad(outs, xs, vs, create_graph)
    result = _finish(grads, xs, create_graph, strict, "vjp")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _shape(out_tuple, outs), _shape(in_tuple, result)


def jvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``, by the double-vjp trick."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    with autograd.enable_grad():
        xs = _prepare(xs, create_graph)
        vs = _check_v(v, xs, "jvp", "inputs")
        out_tuple, outs = _outputs(func, xs, "jvp")
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        grads = _grad(outs, xs, us, create_graph=True)
        found = _grad(grads, us, vs, create_graph)
    result = _finish(found, outs, create_graph, strict, "jvp", "output")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _shape(out_tuple, outs), _shape(out_tuple, result)


def jacobian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """``d out_i / d in_j``, shaped ``out_i.shape + in_j.shape``: one vjp per output element.

    ``vectorize`` is accepted (it only changes how torch batches the same products);
    ``strategy="forward-mode"`` is not implemented here.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode", '
                         f'got {strategy!r}.')
    if strategy == "forward-mode":
        raise NotImplementedError("jacobian: strategy='forward-mode' is not implemented in "
                                  "deepgrad; use the default 'reverse-mode' (same values)")
    from deepgrad.ops.shape import stack

    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    with autograd.enable_grad():
        xs = _prepare(xs, create_graph)
        out_tuple, outs = _outputs(func, xs, "jacobian")
        per_output = []
        for out in outs:
            flat = out.reshape(-1)
            rows: list[list[Tensor]] = [[] for _ in xs]
            for k in range(flat.shape[0]):
                grads = _grad([flat[k]], xs, [ones_like(flat[k])], create_graph) \
                    if flat.requires_grad else (None,) * len(xs)
                filled = _finish(grads, xs, create_graph, strict, "jacobian")
                for j, g in enumerate(filled):
                    rows[j].append(g)
            blocks = []
            for j, x in enumerate(xs):
                if rows[j]:
                    block = stack(rows[j], dim=0).reshape(*out.shape, *x.shape)
                else:
                    block = zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                blocks.append(block if create_graph else block.detach())
            per_output.append(_shape(in_tuple, tuple(blocks)))
    return _shape(out_tuple, tuple(per_output))



def _scalar_output(func: Callable[..., Any], fn_name: str) -> Callable[..., Tensor]:
    def scalar(*xs: Tensor) -> Tensor:
        out_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function",
                                    fn_name)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single "
                               f"Tensor with a single element, got shape "
                               f"{tuple(outs[0].shape) if not out_tuple else 'a tuple'}.")
        return outs[0]

    return scalar


def hessian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the jacobian of its gradient, shaped
    ``in_i.shape + in_j.shape``."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
    scalar = _scalar_output(func, "hessian")

    def gradient(*ys: Tensor) -> Any:
        out = scalar(*ys)
        grads = _grad([out], ys, [ones_like(out)], create_graph=True)
        return tuple(zeros_like(y) if g is None else g for g, y in zip(grads, ys, strict=True))

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return result if in_tuple else result[0][0]


def vhp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(inputs), v^T H)``: the gradient of ``<grad f, v>``."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
    with autograd.enable_grad():
        xs = _prepare(xs, create_graph)
        vs = _check_v(v, xs, "vhp", "inputs")
        out = _scalar_output(func, "vhp")(*xs)
        grads = _grad([out], xs, [ones_like(out)], create_graph=True)
        result = _grad(grads, xs, vs, create_graph)
    finished = _finish(result, xs, create_graph, strict, "vhp")
    return (out if create_graph else out.detach()), _shape(in_tuple, finished)


def hvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(inputs), H v)``, by the double-vjp trick on the gradient (as torch)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hvp")
    with autograd.enable_grad():
        xs = _prepare(xs, create_graph)
        vs = _check_v(v, xs, "hvp", "inputs")
        out = _scalar_output(func, "hvp")(*xs)
        grads = _grad([out], xs, [ones_like(out)], create_graph=True)
        filled = tuple(zeros_like(x) if g is None else g for g, x in zip(grads, xs,
                                                                           strict=True))
        us = tuple(zeros_like(x).requires_grad_(True) for x in xs)
        back = _grad(filled, xs, us, create_graph=True)
        result = _grad(back, us, vs, create_graph)
    finished = _finish(result, xs, create_graph, strict, "hvp")
    return (out if create_graph else out.detach()), _shape(in_tuple, finished)
