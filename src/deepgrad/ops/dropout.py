"""Dropout: zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

The mask comes from the one global generator (``deepgrad.backend.get_generator()``,
read at call time), so ``manual_seed`` makes it reproducible. Scaling at train time
("inverted dropout") keeps each unit's expected value, so evaluation is the identity.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.autograd import Context, Function
from deepgrad.tensor import Tensor


class Dropout(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, *, p: float, mask_shape: tuple[int, ...]) -> Any:
        # P(u >= p) = 1 - p for u uniform on [0, 1); float32 draws are enough and faster.
        keep = backend.get_generator().random(mask_shape, dtype=np.float32) >= np.float32(p)
        scale = np.asarray(0.0 if p >= 1 else 1.0 / (1.0 - p), dtype=x.dtype)
        out = x * keep
        out *= scale
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (keep,) = ctx.saved_tensors  # the mask drawn in forward: a constant
        return (grad * keep * ctx.scale,)


def _check(op: str, input: Tensor, p: float) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, got p={p}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {input.dtype}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero elements with probability ``p``, scale the rest by ``1/(1-p)``; identity when
    ``training`` is False or ``p`` is 0; ``inplace`` writes the result back into ``input``."""
    _check("dropout", input, p)
    if not training or p == 0:
        return input
    return _apply(input, float(p), tuple(input.shape), inplace, "dropout")


def _apply(input: Tensor, p: float, mask_shape: tuple[int, ...], inplace: bool,  # noqa: A002
           name: str) -> Tensor:
    if not inplace:
        return Dropout.apply(input, p=p, mask_shape=mask_shape)
    from deepgrad.ops.inplace import apply_inplace

    return apply_inplace(input, name + "_", lambda x: Dropout.apply(x, p=p, mask_shape=mask_shape))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) input.

    Other ranks warn, as torch 2.x does, and are treated as torch treats them: as one
    unbatched sample whose first dim is the channel dim (so a 2-D ``(N, C)`` input loses
    whole rows).
    """
    _check("dropout2d", input, p)
    shape = tuple(input.shape)
    if len(shape) not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {len(shape)}-D input to dropout2d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead. Note that dropout2d exists to provide "
            f"channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if not training or p == 0:
        return input
    if len(shape) in (3, 4):
        mask_shape = shape[:-2] + (1, 1)
    else:
        mask_shape = shape[:1] + (1,) * (len(shape) - 1)
    return _apply(input, float(p), mask_shape, inplace, "dropout2d")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or unbatched ``(C, L)``) input: ``dropout2d``
    of the input with a width-1 axis added."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    return dropout2d(input.unsqueeze(-1), p, training).squeeze(-1)
