"""Which layer's output or gradient first went non-finite: NaNGuard's diagnosis.

The guard hands over the batch it received in its callback logs; the trace
replays it with hooks on every layer and names the first one that broke.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor

from .probes import leaf_modules


def _finite(values: Any) -> bool:
    """All gradients given (Tensors, or None for inputs without grad) are finite."""
    items = values if isinstance(values, tuple | list) else (values,)
    return all(bool(np.isfinite(v._array).all()) for v in items if isinstance(v, Tensor))


def trace_nonfinite(model: Any, loss_fn: Callable[[Any, Any], Any], x: Any, y: Any) -> str:
    """Replay one batch with hooks on every layer; say where values first stopped being finite.

    Forward hooks find the first layer (in forward order) whose output was
    non-finite. Full backward hooks find the first layer (in backward order)
    that received a finite gradient and passed a non-finite one on: the
    layer whose backward broke. Parameters are checked too. The gradients
    the replay makes are discarded and the old ones put back.
    """
    x_data = np.asarray(getattr(x, "data", x))
    if x_data.dtype.kind == "f" and not np.isfinite(x_data).all():
        return "the input batch itself holds non-finite values"
    bad_outputs: list[str] = []
    backward: list[tuple[str, bool, bool]] = []  # (layer, grad out finite, grad in finite)
    handles = []

    def label(path: str, module: Any) -> str:
        return f"'{path}' ({type(module).__name__})"

    def make_forward_hook(name: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, Tensor) and not np.isfinite(output._array).all():
                if name not in bad_outputs:
                    bad_outputs.append(name)
        return hook

    def make_backward_hook(name: str) -> Callable[..., None]:
        def hook(module: Any, grad_input: Any, grad_output: Any) -> None:
            backward.append((name, _finite(grad_output), _finite(grad_input)))
        return hook

    for path, module in leaf_modules(model):
        name = label(path, module)
        handles.append(module.register_forward_hook(make_forward_hook(name)))
        handles.append(module.register_full_backward_hook(make_backward_hook(name)))
    params = dict(model.named_parameters())
    saved = {name: p.grad for name, p in params.items()}
    for p in params.values():
        p.grad = None
    loss_value = math.nan
    replay_error = None
    try:
        with autograd.enable_grad(), np.errstate(all="ignore"):
            loss = loss_fn(model(x), y)
            loss_value = float(np.asarray(loss._array).sum())
            loss.backward()
    except Exception as error:  # noqa: BLE001 - a broken replay still gets reported
        replay_error = f"the replay raised {type(error).__name__}: {error}"
    finally:
        for handle in handles:
            handle.remove()
    bad_params = [name for name, p in params.items()
                  if p.grad is not None and not np.isfinite(p.grad._array).all()]
    for name, p in params.items():
        p.grad = saved[name]
    parts = []
    if bad_outputs:
        parts.append(f"the first layer whose output went non-finite is {bad_outputs[0]}")
    elif not math.isfinite(loss_value):
        parts.append("every layer output is finite, so the loss itself is not "
                     "(e.g. the log of 0; check the targets and the loss)")
    broke = [name for name, out_ok, in_ok in backward if out_ok and not in_ok]
    if broke:
        parts.append(f"the first layer whose gradient went non-finite is {broke[0]} "
                     "(finite gradient in, non-finite gradient out)")
    elif backward and not backward[0][1]:
        parts.append(f"the gradient reaching the last layer {backward[0][0]} is already "
                     "non-finite")
    if bad_params:
        parts.append(f"the first parameter with a non-finite gradient is '{bad_params[0]}'")
    if replay_error:
        parts.append(replay_error)
    if not parts:
        parts.append("a replay of the batch was finite (a random layer such as dropout, "
                     "or an overflow in the optimizer, may be the cause)")
    return "; ".join(parts)
