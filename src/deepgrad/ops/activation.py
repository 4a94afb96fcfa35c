"""Activation functions: the nonlinearities of MLPs and CNNs (report 000's study)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad.autograd import Context, Function
from deepgrad.ops import dual
from deepgrad.tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(name: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got dtype {x.dtype}")
    return x


def _positive(a: Any) -> Any:
    return a > 0


class ReLU(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad * dual.mask(out, _positive),)


class Hardtanh(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, lo: float, hi: float) -> Any:
        ctx.save_for_backward((x > lo) & (x < hi))
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (mask,) = ctx.saved_tensors
        return (grad * mask,)


class LeakyReLU(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any, slope: float) -> Any:
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * np.asarray(slope, dtype=x.dtype))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        positive = dual.mask(x, _positive)
        slope = np.asarray(ctx.slope, dtype=grad.dtype)
        return (grad * (positive + (1 - positive) * slope),)


class ELU(Function):
    """``scale * (x if x > 0 else alpha * (exp(x) - 1))``; SELU is ELU with fixed constants."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, x: Any, alpha: float, scale: float = 1.0) -> Any:
        positive = x > 0
        neg = np.expm1(np.minimum(x, 0)) * np.asarray(alpha, dtype=x.dtype)
        out = np.where(positive, x, neg)
        if scale != 1.0:
            out = out * np.asarray(scale, dtype=x.dtype)
        ctx.save_for_backward(positive, out)
        ctx.alpha, ctx.scale = alpha, scale
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        # below zero the slope is scale * alpha * exp(x) = out + scale * alpha (torch's form)
        positive, out = ctx.saved_tensors
        scale = np.asarray(ctx.scale, dtype=grad.dtype)
        local = dual.where(positive, scale, out + np.asarray(ctx.alpha * ctx.scale, grad.dtype))
        return (grad * local,)


class Sigmoid(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        half = np.asarray(0.5, dtype=x.dtype)
        out = half * np.tanh(half * x) + half  # stable for large |x|
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad * out * (1 - out),)


class Tanh(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return (grad * (1 - out * out),)


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` as torch."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, x: Any, beta: float, threshold: float) -> Any:
        bx = x * np.asarray(beta, dtype=x.dtype)
        linear = bx > threshold
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / np.asarray(beta, x.dtype)
        ctx.save_for_backward(x, linear)
        ctx.beta = beta
        return np.where(linear, x, soft)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, linear = ctx.saved_tensors
        half = np.asarray(0.5, dtype=x.dtype)
        sig = half * dual.tanh(half * (x * np.asarray(ctx.beta, dtype=x.dtype))) + half
        return (dual.where(linear, grad, grad * sig),)


def _erf(x: Any) -> Any:
    """Vectorised erf (NumPy has none): Abramowitz-Stegun 7.1.26 refined, |error| < 1.2e-7."""
    # This one matches float32 torch.erf to within float32 rounding; float64 needs more
    # (it is what gradcheck and the second-derivative checks run in): math.erf per element.
    if x.dtype == np.float64:
        return np.frompyfunc(math.erf, 1, 1)(x).astype(np.float64)
    z = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    r = 1.0 - t * np.exp(poly)
    return (np.sign(x) * r).astype(x.dtype)


class GELU(Function):
    """``x * Phi(x)`` (exact, erf-based; ``approximate='tanh'`` as torch's option)."""
    differentiable_backward = True


    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str = "none") -> Any:
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            inner = k * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + np.tanh(inner))
        return 0.5 * x * (1 + _erf(x / np.asarray(math.sqrt(2.0), x.dtype)))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            inner = k * (x + 0.044715 * x**3)
            th = dual.tanh(inner)
            local = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x)
        else:
            local = _normal_cdf(x) + x * _normal_pdf(x)
        return (dual.astype(grad * local, grad.dtype),)


def _normal_pdf(x: Any) -> Any:
    return dual.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _normal_cdf(x: Any) -> Any:
    """Phi(x), on arrays or (differentiably) on Tensors."""
    if isinstance(x, Tensor):
        return NormalCdf.apply(x)
    return 0.5 * (1 + _erf(x / np.asarray(math.sqrt(2.0), x.dtype)))


class NormalCdf(Function):
    """The standard normal's distribution function, an op so that GELU's backward can be
    differentiated: its derivative is the density."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _normal_cdf(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return (grad * _normal_pdf(x),)


def _in_place(name: str, input: Tensor, op: Any) -> Tensor:  # noqa: A002
    """``inplace=True``: the activation written back into ``input`` (torch's ``relu_``)."""
    from deepgrad.ops.inplace import apply_inplace

    return apply_inplace(_float_input(name, input), name + "_", op)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    if inplace:
        return _in_place("relu", input, ReLU.apply)
    return ReLU.apply(_float_input("relu", input))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    if inplace:
        return _in_place("hardtanh", input, lambda x: Hardtanh.apply(x, lo=min_val, hi=max_val))
    return Hardtanh.apply(_float_input("hardtanh", input), lo=min_val, hi=max_val)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    if inplace:
        return _in_place("leaky_relu", input, lambda x: LeakyReLU.apply(x, slope=negative_slope))
    return LeakyReLU.apply(_float_input("leaky_relu", input), slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    if inplace:
        return _in_place("elu", input, lambda x: ELU.apply(x, alpha=alpha))
    return ELU.apply(_float_input("elu", input), alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    if inplace:
        return _in_place("selu", input,
                         lambda x: ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE))
    return ELU.apply(_float_input("selu", input), alpha=SELU_ALPHA, scale=SELU_SCALE)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input("gelu", input), approximate=approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    return Softplus.apply(_float_input("softplus", input), beta=beta, threshold=threshold)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    return Sigmoid.apply(_float_input("sigmoid", input))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return Tanh.apply(_float_input("tanh", input))
