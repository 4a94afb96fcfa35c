"""Look inside a model with module hooks, without changing the run it watches.

``capture_activations`` gives every layer's output for one batch; it runs in
eval mode under ``no_grad`` and draws nothing from the random generator. The
recorders, the NaN trace and the end-of-run files all walk modules this way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor, as_array


def leaf_modules(model: Any) -> list[tuple[str, Any]]:
    """``(path, module)`` for every module without children, in registration order."""
    leaves = [(name, m) for name, m in model.named_modules() if not any(True for _ in m.children())]
    return [(name or type(m).__name__.lower(), m) for name, m in leaves]


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Eval mode and no_grad inside the block; the previous mode afterwards."""
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with autograd.no_grad():
            yield
    finally:
        model.train(was_training)


def forward_in_chunks(model: Any, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    outs = [np.asarray(model(Tensor(as_array(x[i:i + chunk]),
                                    _copy=False))._array) for i in range(0, len(x), chunk)]
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


def capture_activations(model: Any, x: Any, modules: list[tuple[str, Any]] | None = None
                        ) -> dict[str, np.ndarray]:
    """Each layer's output for input ``x`` (eval mode, no grad): ``{path: array}``.

    A layer called twice in one forward (a shared ReLU) gives ``path``,
    then ``path#2``...
    """
    outputs: dict[str, np.ndarray] = {}
    handles = []

    def make_hook(path: str) -> Callable[..., None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, Tensor):
                key, k = path, 1
                while key in outputs:
                    k += 1
                    key = f"{path}#{k}"
                outputs[key] = np.array(output._array, copy=True)
        return hook

    for path, module in modules if modules is not None else leaf_modules(model):
        handles.append(module.register_forward_hook(make_hook(path)))
    try:
        with eval_mode(model):
            model(x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
    finally:
        for handle in handles:
            handle.remove()
    return outputs
