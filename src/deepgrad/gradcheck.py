"""Finite-difference gradient checks: the proof that a backward is right.

``gradcheck`` compares autograd's gradients with central differences in
float64, element by element for small inputs and along random directions
(the dot-product check of HIPS autograd's ``check_grads``) for large ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd's gradient disagrees with the finite-difference one."""


def _scalarize(out: Any, weights: list[np.ndarray]) -> float:
    """Collapse outputs to one number by a fixed random projection."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return float(sum(np.sum(o._array.astype(np.float64) * w) for o, w in zip(outs, weights,
                                                                                strict=True)))


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 2000,
    n_directions: int = 4,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s gradients against central differences in float64.

    Inputs that require grad are checked. Each needs float64 data (float32 is
    too coarse for finite differences). Inputs with at most ``max_elements``
    elements are checked per element; larger ones along ``n_directions``
    random unit directions: ``(f(x + eps v) - f(x - eps v)) / 2eps == <grad, v>``.
    """
    rng = np.random.default_rng(seed)
    tensors = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not tensors:
        raise ValueError("gradcheck: no input requires grad")
    for i, x in enumerate(tensors):
        if x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x.dtype}; use float64 inputs "
                            f"(finite differences need double precision)")
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    weights = [rng.standard_normal(o.shape) for o in outs]
    analytic = autograd.grad(
        [o for o in outs], tensors,
        grad_outputs=[Tensor(w.astype(o.dtype), _copy=False) for o, w in zip(outs, weights,
                                                                              strict=True)],
        allow_unused=True,
    )

    def f() -> float:
        with autograd.no_grad():
            return _scalarize(fn(*inputs), weights)

    for index, (x, g) in enumerate(zip(tensors, analytic, strict=True)):
        grad = np.zeros(x.shape) if g is None else g._array
        original = x._array.copy()
        if x._array.size <= max_elements:
            numeric = np.zeros(x.shape)
            flat = x._array.reshape(-1)
            for j in range(flat.size):
                keep = flat[j]
                flat[j] = keep + eps
                plus = f()
                flat[j] = keep - eps
                minus = f()
                flat[j] = keep
                numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
            bad = ~np.isclose(grad, numeric, atol=atol, rtol=rtol)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                msg = (f"gradcheck: input {index} (shape {tuple(x.shape)}): {int(bad.sum())} of "
                       f"{bad.size} gradient entries differ; first at flat index {j}: "
                       f"analytic {grad.reshape(-1)[j]:.8g} vs numeric "
                       f"{numeric.reshape(-1)[j]:.8g}")
                x._array[...] = original
                if raise_exception:
                    raise GradcheckError(msg)
                return False
        else:
            for _ in range(n_directions):
                v = rng.standard_normal(x.shape)
                v /= np.linalg.norm(v)
                x._array[...] = original + eps * v
                plus = f()
                x._array[...] = original - eps * v
                minus = f()
                x._array[...] = original
                numeric_d = (plus - minus) / (2 * eps)
                analytic_d = float(np.sum(grad * v))
                if not np.isclose(analytic_d, numeric_d, atol=atol, rtol=rtol):
                    msg = (f"gradcheck: input {index} (shape {tuple(x.shape)}): directional "
                           f"derivative analytic {analytic_d:.8g} vs numeric {numeric_d:.8g}")
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 2000,
    n_directions: int = 4,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives against central differences, as torch's ``gradgradcheck``.

    The function checked is ``(inputs, v) -> d<fn(inputs), v>/d inputs``, built with
    ``create_graph=True``; ``gradcheck`` then compares its backward (the backward of the
    backward) with finite differences of it, with respect to the inputs and to ``v`` (the
    output gradients: random float64 ones unless ``grad_outputs`` is given).
    """
    rng = np.random.default_rng(seed + 1)
    with autograd.enable_grad():
        first = fn(*inputs)
    outs = first if isinstance(first, (tuple, list)) else (first,)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(tuple(o.shape)), _copy=False) for o in outs]
    vs = [v.detach().double().requires_grad_(True) for v in grad_outputs]
    count = len(inputs)

    def derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs, gos = args[:count], args[count:]
        with autograd.enable_grad():
            out = fn(*xs)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            grads = autograd.grad(list(outs), wrt, list(gos), create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(derivatives, [*inputs, *vs], eps=eps, atol=atol, rtol=rtol,
                     max_elements=max_elements, n_directions=n_directions, seed=seed,
                     raise_exception=raise_exception)
