"""torch's less common activations and distances, written with deepgrad's differentiable ops.

Each is a line or two of ops that already have a first- and a higher-order backward
(``sigmoid``, ``softplus``, ``elu``, ``where``, ``norm``...), so it needs no backward of its
own, ``create_graph`` works, and the formula is the documentation: what a reader of
``torch.nn.functional`` would write. Unused branches of a ``where`` are kept finite, so
their zero gradient never meets an infinity (``0 * inf`` is NaN).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deepgrad.ops import activation as A
from deepgrad.ops import elementwise as E
from deepgrad.ops import shape as S
from deepgrad.ops.loss import softmax
from deepgrad.tensor import Tensor

__all__ = ["relu_", "elu_", "leaky_relu_", "selu_", "hardtanh_", "celu_", "threshold_", "rrelu_",
           "silu", "mish", "logsigmoid", "softsign", "softmin", "hardsigmoid", "hardswish",
           "hardshrink", "softshrink", "tanhshrink", "threshold", "celu", "glu", "prelu",
           "rrelu", "normalize", "cosine_similarity", "pairwise_distance", "kl_div",
           "local_response_norm", "bilinear", "gumbel_softmax", "alpha_dropout"]


def _in_place(name: str, input: Tensor, fn: Any) -> Tensor:  # noqa: A002
    from deepgrad.ops.inplace import apply_inplace

    return apply_inplace(input, name + "_", fn)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * sigmoid(x)`` (swish)."""
    def fn(x: Tensor) -> Tensor:
        return x * A.sigmoid(x)
    return _in_place("silu", input, fn) if inplace else fn(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * tanh(softplus(x))``."""
    def fn(x: Tensor) -> Tensor:
        return x * A.tanh(A.softplus(x))
    return _in_place("mish", input, fn) if inplace else fn(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x."""
    return -A.softplus(-input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """``x / (1 + |x|)``."""
    return input / (E.abs(input) + 1)


def softmin(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=2)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return softmax(-x, dim)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between."""
    def fn(x: Tensor) -> Tensor:
        return A.hardtanh(x + 3, 0.0, 6.0) / 6
    return _in_place("hardsigmoid", input, fn) if inplace else fn(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * relu6(x + 3) / 6`` (MobileNetV3)."""
    def fn(x: Tensor) -> Tensor:
        return x * A.hardtanh(x + 3, 0.0, 6.0) / 6
    return _in_place("hardswish", input, fn) if inplace else fn(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x`` where ``|x| > lambd``, else 0."""
    return E.where(E.abs(input) > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    return E.where(input > lambd, input - lambd, E.where(input < -lambd, input + lambd, 0.0))


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """``x - tanh(x)``."""
    return input - A.tanh(input)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    def fn(x: Tensor) -> Tensor:
        return E.where(x > threshold, x, value)
    return _in_place("threshold", input, fn) if inplace else fn(input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha (exp(x / alpha) - 1))`` = ``alpha * elu(x / alpha)``."""
    if alpha == 0:
        raise ValueError("celu: alpha of 0 is not allowed (it divides x)")

    def fn(x: Tensor) -> Tensor:
        return A.elu(x / alpha) * alpha
    return _in_place("celu", input, fn) if inplace else fn(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: the first half of ``dim`` times sigmoid of the second."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = dim % input.ndim
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    a, b = S.chunk(input, 2, axis)
    return a * A.sigmoid(b)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` where ``x >= 0``, else ``weight * x``; ``weight`` has one slope or one per
    channel (dim 1)."""
    if weight.ndim != 1 and weight.numel() != 1:
        raise RuntimeError(f"prelu: weight must be 1-D (one slope, or one per channel), got "
                           f"shape {tuple(weight.shape)}")
    slopes = weight.reshape(()) if weight.numel() == 1 else weight
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0] if input.ndim else 1
        if weight.numel() != channels:
            raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size: "
                               f"{weight.numel()} slopes for {channels} channels (input shape "
                               f"{tuple(input.shape)})")
        slopes = weight.reshape(-1, *([1] * (input.ndim - 2))) if input.ndim >= 2 else weight
    return E.where(input >= 0, input, slopes * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU with a slope drawn uniformly from ``[lower, upper]`` per element while
    training (from deepgrad's generator, not torch's stream), their mean otherwise."""
    if not training:
        return A.leaky_relu(input, (lower + upper) / 2, inplace=inplace)
    from deepgrad.ops.creation import empty

    slopes = empty(*input.shape, dtype=input.dtype).uniform_(lower, upper)

    def fn(x: Tensor) -> Tensor:
        return E.where(x >= 0, x, slopes * x)
    return _in_place("rrelu", input, fn) if inplace else fn(input)


# ----------------------------------------------------------------------------- distances


def floor_in_value(x: Tensor, floor: float) -> Tensor:
    """``x`` at least ``floor`` in value, with ``x``'s own gradient: what torch's in-place
    ``clamp_min_`` under ``no_grad`` leaves (cosine similarity's norms, Gaussian NLL's
    variance)."""
    return x + (E.clamp(x, min=floor) - x).detach()


def _clamped_norm(x: Tensor, p: float, dim: int, eps: float) -> Tensor:
    """``||x||_p`` along ``dim`` (kept), at least ``eps`` in value (``floor_in_value``)."""
    return floor_in_value(x.norm(p, dim, keepdim=True), eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    result = input / E.clamp(input.norm(p, dim, keepdim=True), min=eps)
    if out is not None:
        out.copy_(result)
        return out
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1/||x1|| * x2/||x2||)`` along ``dim``, each norm at least ``eps``."""
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    a, b = x1.expand(*shape), x2.expand(*shape)
    return ((a / _clamped_norm(a, 2.0, dim, eps)) * (b / _clamped_norm(b, 2.0, dim, eps))
            ).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dimension."""
    diff = x1 - x2 + eps
    return diff.norm(p, -1 if diff.ndim else None, keepdim=keepdim)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
           reduce: Any = None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of ``target`` from the log-probabilities ``input``:
    ``target * (log(target) - input)`` (0 where target is 0), or with ``log_target``
    ``exp(target) * (target - input)``. ``batchmean`` is the mathematically right mean."""
    if size_average is not None or reduce is not None:
        raise ValueError("kl_div: size_average and reduce are deprecated; use reduction=")
    if reduction not in ("none", "mean", "batchmean", "sum"):
        raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction "
                         "('none', 'mean', 'batchmean' or 'sum')")
    if log_target:
        pointwise = E.exp(target) * (target - input)
    else:
        positive = target > 0
        safe = E.where(positive, target, 1.0)  # log(1) = 0: no -inf in the unused branch
        pointwise = E.where(positive, target * E.log(safe), 0.0) - target * input
    if reduction == "none":
        return pointwise
    if reduction == "sum":
        return pointwise.sum()
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                  "support size.'batchmean' divides only by the batch size, and aligns with the "
                  "KL div math definition.'mean' will be changed to behave the same as "
                  "'batchmean' in the next major release.", stacklevel=2)
    return pointwise.mean()


# ----------------------------------------------------------------------------- in place


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return A.relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return A.elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return A.leaky_relu(input, negative_slope, inplace=True)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return A.selu(input, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return A.hardtanh(input, min_val, max_val, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, inplace=True)


def threshold_(input: Tensor, threshold_value: float, value: float) -> Tensor:  # noqa: A002
    return threshold(input, threshold_value, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


# ----------------------------------------------------------------------------- layers' ops


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """AlexNet's normalisation across channels: ``x / (k + alpha * mean_window(x^2))^beta``,
    the window ``size`` channels around each (zero-padded, divided by ``size``)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    squares = input * input
    channels = input.shape[1]
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = S.pad(squares, widths)
    from deepgrad.ops.indexing import narrow

    window = narrow(padded, 1, 0, channels)
    for j in range(1, size):
        window = window + narrow(padded, 1, j, channels)
    return input / (window * (alpha / size) + k) ** beta


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``x1^T W_o x2 + b_o`` for each output ``o``: weight (out, in1, in2)."""
    from deepgrad.ops.linalg import einsum

    lead = tuple(input1.shape[:-1])
    a = S.reshape(input1, (-1, input1.shape[-1]))
    b = S.reshape(input2, (-1, input2.shape[-1]))
    out = S.reshape(einsum("bi,oij,bj->bo", a, weight, b), (*lead, weight.shape[0]))
    return out + bias if bias is not None else out


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A differentiable sample of a categorical: ``softmax((logits + g) / tau)``, g Gumbel
    noise; ``hard`` returns one-hot samples whose gradient is the soft sample's (straight
    through). The noise comes from deepgrad's generator, not torch's stream."""
    from deepgrad.ops.creation import empty_like, zeros_like

    gumbels = -E.log(empty_like(logits).exponential_())
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot = zeros_like(logits).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


_SELU_ALPHA_PRIME = 1.7580993408473766  # -SELU's negative saturation, alpha * scale


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation and
    the result is rescaled so that a standard normal input keeps mean 0 and variance 1."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from deepgrad.ops.creation import empty_like

    a = 1.0 / ((_SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
    keep = empty_like(input).bernoulli_(1.0 - p)
    out = input * keep * a + (keep - 1) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p
    return _in_place("alpha_dropout", input, lambda _x: out) if inplace else out
