"""One helper, many one-line tests: float64 finite differences and float32 parity with PyTorch.

``check_op(fn, shapes)`` draws random inputs, checks ``fn``'s gradients in
float64 with ``deepgrad.gradcheck``, then runs ``fn`` (or ``torch_fn``) on
deepgrad and torch tensors in float32 and compares outputs and gradients.
Tolerances are stated once, here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import deepgrad

FORWARD_ATOL = 1e-5
FORWARD_RTOL = 1e-4
BACKWARD_ATOL = 1e-4
BACKWARD_RTOL = 1e-3
GRADCHECK_ATOL = 1e-5
GRADCHECK_RTOL = 1e-3


def torch_or_skip() -> Any:
    """Import torch; skip locally when missing, fail under CI (parity is required there)."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("torch is not installed (pip install -e '.[dev]')")
    return torch


def onnx_or_skip() -> tuple[Any, Any]:
    """Import onnx and onnxruntime (the ``[onnx]`` extra); skip locally when missing, fail
    under CI (the export tests are required there)."""
    try:
        import onnx
        import onnxruntime

        if not hasattr(onnx, "checker"):  # tests/onnx itself, found as a namespace package
            raise ImportError("onnx is not installed")
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("onnx/onnxruntime are not installed (pip install -e '.[onnx]')")
    return onnx, onnxruntime


def random_inputs(shapes: Sequence[Any], seed: int = 0, low: float = -2.0, high: float = 2.0,
                  positive: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if isinstance(shape, np.ndarray):
            arrays.append(shape)
            continue
        a = np.asarray(rng.uniform(low, high, size=shape))
        if positive:
            a = np.asarray(np.abs(a) + 0.5)
        arrays.append(a)
    return arrays


def _outputs(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_op(
    fn: Callable[..., Any],
    shapes: Sequence[Any],
    torch_fn: Callable[..., Any] | None = None,
    *,
    seed: int = 0,
    low: float = -2.0,
    high: float = 2.0,
    positive: bool = False,
    grad: bool = True,
    gradcheck: bool = True,
    extra: Sequence[Any] = (),
    atol: float = FORWARD_ATOL,
    rtol: float = FORWARD_RTOL,
    grad_atol: float = BACKWARD_ATOL,
    grad_rtol: float = BACKWARD_RTOL,
) -> None:
    """Check a differentiable op: float64 gradcheck, then float32 forward/backward parity.

    ``shapes`` gives the float inputs (a shape tuple draws uniform values, an array is used
    as is, float ones differentiated). ``extra`` are non-float arguments (indices, targets)
    passed after them as deepgrad/torch tensors of their own dtype.
    """
    torch = torch_or_skip()
    torch_fn = torch_fn or fn
    arrays = random_inputs(shapes, seed, low, high, positive)
    floats = [a.dtype.kind == "f" for a in arrays]

    def dg_extra() -> list[Any]:
        return [deepgrad.tensor(e) if isinstance(e, np.ndarray) else e for e in extra]

    def torch_extra() -> list[Any]:
        return [torch.from_numpy(e.copy()) if isinstance(e, np.ndarray) else e for e in extra]

    if grad and gradcheck:
        xs64 = [deepgrad.tensor(a.astype(np.float64) if f else a, requires_grad=f)
                for a, f in zip(arrays, floats, strict=True)]
        deepgrad.gradcheck(lambda *xs: fn(*xs, *dg_extra()), xs64,
                           atol=GRADCHECK_ATOL, rtol=GRADCHECK_RTOL)

    xs = [deepgrad.tensor(a.astype(np.float32) if f else a, requires_grad=grad and f)
          for a, f in zip(arrays, floats, strict=True)]
    ts = [torch.tensor(a.astype(np.float32) if f else a, requires_grad=grad and f)
          for a, f in zip(arrays, floats, strict=True)]
    outs = _outputs(fn(*xs, *dg_extra()))
    touts = _outputs(torch_fn(*ts, *torch_extra()))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(seed + 1)
    weights = []
    for o, t in zip(outs, touts, strict=True):
        assert tuple(o.shape) == tuple(t.shape), f"shape {o.shape} != torch {tuple(t.shape)}"
        assert o.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (o.dtype, t.dtype)
        np.testing.assert_allclose(o.data.numpy(), t.detach().numpy(), atol=atol, rtol=rtol,
                                   err_msg="forward differs from torch")
        weights.append(rng.standard_normal(o.shape).astype(np.float32))
    if not grad:
        return
    diff = [(o, w) for o, w in zip(outs, weights, strict=True) if o.requires_grad]
    deepgrad.autograd.backward([o for o, _ in diff], [deepgrad.tensor(w) for _, w in diff])
    tdiff = [(t, w) for t, w in zip(touts, weights, strict=True) if t.requires_grad]
    torch.autograd.backward([t for t, _ in tdiff], [torch.from_numpy(w) for _, w in tdiff])
    for i, (x, tx) in enumerate(zip(xs, ts, strict=True)):
        if not floats[i]:
            continue
        if tx.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i}: torch has no grad"
            continue
        assert x.grad is not None, f"input {i}: no gradient reached it"
        assert x.grad.dtype == np.float32, f"input {i}: gradient dtype {x.grad.dtype}"
        np.testing.assert_allclose(x.grad.data.numpy(), tx.grad.numpy(), atol=grad_atol,
                                   rtol=grad_rtol,
                                   err_msg=f"gradient of input {i} differs from torch")
