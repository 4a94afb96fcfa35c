"""Weight initialisation, as ``torch.nn.init``: fill a tensor in place and return it.

Every draw comes from the one global generator (``deepgrad.manual_seed``), and
fans are computed as torch does (``fan_in = size(1) * receptive field``), so a
fresh deepgrad layer is statistically the same as a fresh torch layer. Report
000's initialiser study (Gaussian, truncated normal, uniform, Xavier, He, zeros)
is ``normal_``, ``trunc_normal_``, ``uniform_``, ``xavier_*``, ``kaiming_*``, ``zeros_``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from deepgrad import autograd, backend
from deepgrad.tensor import Tensor

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def _check_tensor(name: str, tensor: Any) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{name}: expected a deepgrad Tensor or Parameter, got "
                        f"{type(tensor).__name__}")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor`` in place, keeping its dtype, without a graph."""
    with autograd.no_grad():
        array = backend.xp.asarray(values, dtype=tensor.dtype)
        if tensor._array.flags.writeable:
            tensor._array[...] = array
        else:
            tensor._array = backend.xp.array(np.broadcast_to(array, tensor.shape))
        tensor._version_counter.value += 1  # an in-place change, as torch's init_ functions
    return tensor


def _generator(generator: Any) -> np.random.Generator:
    return generator if generator is not None else backend.get_generator()


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance for ``nonlinearity`` (torch's table)."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one "
                     f"of {', '.join(_LINEAR_LIKE)}, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``fan_in = shape[1] * receptive``, ``fan_out = shape[0] * receptive`` (torch's rule:
    a Linear weight is (out, in), a Conv2d weight (out, in/groups, kh, kw))."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out can not be computed for a tensor with "
                         f"fewer than 2 dimensions (got shape {tuple(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _zero_element(tensor: Tensor) -> bool:
    """torch's kaiming_* skip a tensor with a 0 in its shape (``nn.Linear(0, 5)``), whose fan
    may be 0, with this warning, instead of dividing by it."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with U(a, b)."""
    _check_tensor("uniform_", tensor)
    return _fill(tensor, _generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2): the Gaussian initialiser (report 000 used std 1e-4)."""
    _check_tensor("normal_", tensor)
    return _fill(tensor, _generator(generator).normal(mean, std, tensor.shape))


# Acklam's rational approximation of the standard normal quantile (relative error
# below 1.2e-9), vectorised: NumPy has no erfinv.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


def _polyval(coefficients: tuple[float, ...], x: Any) -> Any:
    result = np.zeros_like(x)
    for c in coefficients:
        result = result * x + c
    return result


def normal_quantile(p: Any) -> Any:
    """Inverse CDF of N(0, 1) for probabilities in (0, 1), elementwise, float64."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low = p < 0.02425
    high = p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = _polyval(_A, r) * q / (_polyval(_B, r) * r + 1)
    for mask, tail, sign in ((low, p[low], 1.0), (high, 1 - p[high], -1.0)):
        t = np.sqrt(-2 * np.log(tail))
        out[mask] = sign * _polyval(_C, t) / (_polyval(_D, t) * t + 1)
    return out


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b] (absolute bounds, as torch).

    Inverse-CDF sampling: one uniform draw per element, no rejection loop, so the
    number of draws (and the seeded stream) does not depend on the values. TF's
    ``truncated_normal(stddev=s)`` (report 001) is ``a=-2s, b=2s``.
    """
    _check_tensor("trunc_normal_", tensor)
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    lo = _normal_cdf((a - mean) / std)
    hi = _normal_cdf((b - mean) / std)
    if hi - lo <= 0:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] lies too far in the tail of "
                         f"N({mean}, {std}^2) to sample from")
    u = _generator(generator).uniform(lo, hi, tensor.shape)
    tiny = np.finfo(np.float64).tiny
    values = mean + std * normal_quantile(np.clip(u, tiny, 1 - 1e-16))
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    _check_tensor("constant_", tensor)
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros (report 000's "zeros" initialiser: every unit learns the same)."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix, for a 2-D tensor."""
    _check_tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(tensor.shape[0], tensor.shape[1]))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    _check_tensor("xavier_uniform_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check_tensor("xavier_normal_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He: U(-b, b) with ``b = gain * sqrt(3 / fan)``. Linear and Conv2d use it with
    ``a=sqrt(5)``, which gives torch's default ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    _check_tensor("kaiming_uniform_", tensor)
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He: N(0, std^2) with ``std = gain / sqrt(fan)``."""
    _check_tensor("kaiming_normal_", tensor)
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al.);
    dims after the first are flattened."""
    _check_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


# torch's deprecated non-underscore aliases are left out on purpose: they confuse
# students about what happens in place.
__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "normal_quantile",
]
