"""The autograd graph of one batch with what flowed through it: ``graph_trace.json``.

For the report's graph explorer. One forward pass of a real batch (eval mode, so
no dropout draws and no batch-norm statistics change) through model and loss,
then one backward pass that touches no ``.grad`` (``autograd.grad``). For each
node of the graph — the data input, the parameters, every op, the loss — it
keeps the shape, the module that ran it (for collapsing by module), and the
mean, std, min, max and a 20-bin histogram of its output and of the gradient
that arrived at it; ``order`` is the order the backward pass visited the nodes,
the data input last (where backpropagation ends).

How the values are caught without changing the core: the gradients by
``Context.register_hook`` on every op node and ``Tensor.register_hook`` on the
leaves; the op outputs by wrapping ``Function.apply`` for the length of the one
recorded forward (restored in ``finally``), since a node keeps no reference to
the array it produced. A node created some other way shows no output statistics.
(A forward-output observer in ``deepgrad.autograd`` would make the wrapper
unnecessary.)

Gradients that vanish or explode are flagged against the gradient where
backpropagation starts, the one arriving at the model's output (the loss's
inputs): ``rms(grad)`` below 1/1000 of that (or exactly zero) is vanishing, above
1000 times it (or not finite) exploding — what shrank or grew by three orders of
magnitude on its way back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor

__all__ = ["BINS", "FLAG_RATIO", "stats", "trace_graph"]

BINS = 20
FLAG_RATIO = 1e3


def stats(array: Any) -> dict[str, Any]:
    """Mean, std, min, max, RMS, the count of non-finite values and a histogram."""
    a = np.asarray(array, dtype=np.float64).reshape(-1)
    finite = a[np.isfinite(a)]
    out: dict[str, Any] = {"n": int(a.size), "nonfinite": int(a.size - finite.size)}
    if finite.size == 0:
        return {**out, "mean": None, "std": None, "min": None, "max": None, "rms": None,
                "counts": [], "edges": []}
    lo, hi = float(finite.min()), float(finite.max())
    counts, edges = np.histogram(finite, bins=BINS, range=(lo, hi) if hi > lo else
                                 (lo - 0.5, hi + 0.5))
    return {**out, "mean": float(finite.mean()), "std": float(finite.std()), "min": lo,
            "max": hi, "rms": float(np.sqrt((finite ** 2).mean())),
            "counts": counts.astype(int).tolist(),
            "edges": [float(f"{e:.6g}") for e in edges]}


@contextmanager
def _outputs_caught(into: dict[int, Any], module_of: dict[int, str],
                    current: list[str]) -> Iterator[None]:
    """While open, every ``Function.apply`` notes its output array and the running module."""
    original = autograd.Function.__dict__["apply"]

    def apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        result = original.__func__(cls, *args, **kwargs)
        node = getattr(result, "grad_fn", None)
        if node is not None:
            into[id(node)] = result._array
            module_of[id(node)] = current[-1] if current else ""
        return result

    autograd.Function.apply = classmethod(apply)  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        autograd.Function.apply = original  # type: ignore[method-assign]


def _module_hooks(model: Any, current: list[str]) -> list[Any]:
    handles = []
    for path, module in model.named_modules():
        if not path:
            continue

        def enter(module: Any, args: Any, path: str = path) -> None:
            current.append(path)

        def leave(module: Any, args: Any, output: Any) -> None:
            current.pop()

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    return handles


def _walk(loss: Any) -> list[Any]:
    """Every node reachable from the loss, parents after children (an explicit stack)."""
    seen: set[int] = set()
    out: list[Any] = []
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(parent for parent, _ in reversed(node.next_functions) if parent is not None)
    return out


def trace_graph(model: Any, loss_fn: Callable[[Any, Any], Any], x: Any, y: Any
                ) -> dict[str, Any]:
    """Run one batch forward and backward; return the graph with its values (see above)."""
    from deepgrad.lab.adapters import _cast

    inputs = Tensor(_cast(x), requires_grad=True)
    target = y if isinstance(y, Tensor) else Tensor(_cast(y), _copy=False)
    params = dict(model.named_parameters())
    name_of = {id(p): n for n, p in params.items()}
    outputs: dict[int, Any] = {}
    module_of: dict[int, str] = {}
    current: list[str] = []
    was_training = model.training
    model.eval()
    handles = _module_hooks(model, current)
    try:
        with autograd.enable_grad(), _outputs_caught(outputs, module_of, current):
            loss = loss_fn(model(inputs), target)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if getattr(loss, "grad_fn", None) is None:
        raise ValueError("trace_graph: the loss has no graph (does the model have parameters "
                         "that require grad?)")
    nodes = _walk(loss)
    grads: dict[int, Any] = {}
    order: list[int] = []
    leaf_handles = []

    ours: list[Any] = []

    def catch(node: Any) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            grads[id(node)] = np.asarray(getattr(grad, "_array", grad))
            order.append(id(node))
        ours.append(hook)
        return hook

    for node in nodes:
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaf_handles.append(variable.register_hook(catch(node)))
        else:
            node.register_hook(catch(node))
    leaves = [n.variable for n in nodes if getattr(n, "variable", None) is not None]
    try:
        autograd.grad(loss, leaves, allow_unused=True)
    finally:
        for h in leaf_handles:
            h.remove()
        for node in nodes:  # the hooks of this trace only
            if getattr(node, "variable", None) is None and node.hooks:
                node.hooks = [h for h in node.hooks if not any(h is o for o in ours)]
    index = {id(n): k for k, n in enumerate(nodes)}
    records: list[dict[str, Any]] = []
    for node in nodes:
        variable = getattr(node, "variable", None)
        if variable is inputs:
            kind, label, module, value = "input", "input", "", inputs._array
        elif variable is not None:
            label = name_of.get(id(variable), "leaf")
            kind, module, value = "param", label.rsplit(".", 1)[0] if "." in label else "", \
                variable._array
        else:
            kind = "loss" if node is loss.grad_fn else "op"
            label, module, value = node.name().removesuffix("Backward"), \
                module_of.get(id(node), ""), outputs.get(id(node))
        shape = list(np.shape(value)) if value is not None else None
        records.append({"id": index[id(node)], "kind": kind, "label": label, "module": module,
                        "shape": shape,
                        "out": stats(value) if value is not None else None,
                        "grad": stats(grads[id(node)]) if id(node) in grads else None})
    edges = [[index[id(parent)], index[id(node)]] for node in nodes
             for parent, _ in node.next_functions if parent is not None]
    walk: list[int] = [index[i] for i in dict.fromkeys(order)]
    walk += [int(r["id"]) for r in records if r["id"] not in walk]
    first = [i for i in walk if records[i]["kind"] != "input"]
    walk = first + [i for i in walk if records[i]["kind"] == "input"]
    start = [index[id(p)] for p, _ in loss.grad_fn.next_functions if p is not None]
    _flag(records, start)
    return {"nodes": records, "edges": edges, "order": walk, "loss": float(loss._array),
            "batch": int(inputs.shape[0]), "flag_ratio": FLAG_RATIO}


def _flag(records: list[dict[str, Any]], start: list[int]) -> None:
    """Mark vanishing and exploding gradients against the RMS at ``start`` (the output)."""
    at_start = [records[i]["grad"]["rms"] for i in start
                if records[i]["grad"] and records[i]["grad"]["rms"]]
    reference = max(at_start) if at_start else 0.0
    for r in records:
        g = r["grad"]
        r["flag"] = ""
        if g is None or not reference:
            continue
        if g["nonfinite"] or g["rms"] is None or not math.isfinite(g["rms"]) \
                or g["rms"] > FLAG_RATIO * reference:
            r["flag"] = "exploding"
        elif g["rms"] < reference / FLAG_RATIO:
            r["flag"] = "vanishing"
