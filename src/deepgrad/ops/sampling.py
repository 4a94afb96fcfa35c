"""Random draws shaped by tensors: multinomial, normal, bernoulli (torch's rules and errors).

Each draws from ``generator=`` or the global generator (``deepgrad.manual_seed``).
As in torch, a draw from inputs that require grad is part of the graph but
passes back a zero gradient: these are samples, not reparameterized functions
of their parameters (``mean + std * randn_like(std)`` is, if that is wanted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import backend
from deepgrad.autograd import Context, Function, is_grad_enabled
from deepgrad.ops.creation import _dims, _finish, _float_only, _int_arg, _prepare
from deepgrad.ops.out_arg import check_out, write_out
from deepgrad.random import resolve
from deepgrad.tensor import Tensor


class Sampled(Function):
    """The graph node of a random draw: a zero gradient for each tensor it was drawn from."""
    differentiable_backward = True  # zeros: constants


    @staticmethod
    def forward(ctx: Context, *params: Any, sample: Any) -> Any:
        ctx.like = [(np.shape(p), p.dtype) for p in params]
        return sample

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return tuple(np.zeros(shape, dtype=dtype) for shape, dtype in ctx.like)


def _result(op: str, sample: Any, params: tuple[Tensor, ...], out: Any) -> Tensor:
    if out is not None:
        return write_out(op, sample, out)
    if is_grad_enabled() and any(p.requires_grad for p in params):
        return Sampled.apply(*params, sample=sample)
    return Tensor(sample, _copy=False)


def _float_tensor(op: str, name: str, value: Any) -> np.ndarray:
    if value.dtype.kind != "f":
        raise NotImplementedError(f"{op}(): '{name}' must be a floating point tensor, got "
                                  f"dtype {value.dtype}")
    return np.asarray(value.detach().numpy())


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None, out: Tensor | None = None) -> Tensor:
    """Draw ``num_samples`` category indices per row of (unnormalized) weights ``input``.

    ``input`` is 1-D (categories) or 2-D (rows of categories); the result is int64 of
    shape ``(num_samples,)`` or ``(rows, num_samples)``. Without replacement each index
    appears at most once per row; once the non-zero weights are used up, zero-weight
    categories follow (as torch does).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial(): only supports floating-point dtypes for input, "
                           f"got {input.dtype}")
    k = _int_arg("multinomial", "num_samples", num_samples)
    categories = input.shape[-1]
    if k <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples (got {k})")
    if not replacement and k > categories:
        raise RuntimeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) "
                           f"samples without replacement ({k} > {categories}); pass "
                           f"replacement=True")
    if out is not None:
        check_out("multinomial", out)
    weights = np.asarray(input.detach().numpy(), dtype=np.float64).reshape(-1, categories)
    if not np.all(np.isfinite(weights) & (weights >= 0)):
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` "
                           "or element < 0")
    if weights.shape[0] and not np.all(weights.sum(axis=1) > 0):
        raise RuntimeError("multinomial(): invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    g = resolve(generator, "multinomial")
    rows = weights.shape[0]
    if replacement:
        # Inverse CDF per row; a zero-weight category has an empty interval, and the
        # clip keeps rounding at the top end on the last category that has weight.
        cdf = np.cumsum(weights, axis=1)
        u = g.random((rows, k)) * cdf[:, -1:]
        last = categories - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
        picks = np.empty((rows, k), dtype=np.int64)
        for r in range(rows):
            picks[r] = np.minimum(np.searchsorted(cdf[r], u[r], side="right"), last[r])
    else:
        # Exponential races: the k smallest E/w (E ~ Exp(1)) are a draw without
        # replacement proportional to w; zero weights never win before the others.
        with np.errstate(divide="ignore"):
            keys = g.standard_exponential((rows, categories)) / weights
        picks = np.argsort(keys, axis=1, kind="stable")[:, :k].astype(np.int64)
    return _result("multinomial", picks.reshape(k) if input.ndim == 1 else picks, (), out)


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           out: Tensor | None = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean_tensor, std)``, ``normal(mean, std_tensor)``,
    ``normal(mean_tensor, std_tensor)`` (broadcast) or ``normal(mean, std, size)``."""
    params = tuple(v for v in (mean, std) if isinstance(v, Tensor))
    if not params:
        return _normal_of_floats(float(mean), float(std), size, generator, out, dtype, device,
                                 requires_grad)
    if size is not None or dtype is not None or device is not None or requires_grad:
        raise TypeError("normal(): size, dtype, device and requires_grad go only with a float "
                        "mean and std; with a tensor the result takes its shape and dtype")
    m = _float_tensor("normal", "mean", mean) if isinstance(mean, Tensor) else float(mean)
    s = _float_tensor("normal", "std", std) if isinstance(std, Tensor) else float(std)
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    except ValueError:
        raise RuntimeError(f"normal(): the shapes of mean {np.shape(m)} and std {np.shape(s)} "
                           f"do not broadcast") from None
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal(): expects all elements of std >= 0.0")
    if out is not None:
        check_out("normal", out)
    dt = np.result_type(*(p.dtype for p in params))
    g = resolve(generator, "normal")
    sample = (g.standard_normal(shape) * s + m).astype(dt)
    return _result("normal", sample, params, out)


def _normal_of_floats(mean: float, std: float, size: Any, generator: Any, out: Any, dtype: Any,
                      device: Any, requires_grad: bool) -> Tensor:
    if size is None:
        raise TypeError("normal(): with a float mean and std, pass size: "
                        "normal(mean, std, size)")
    shape = _dims("normal", size)
    dt = _prepare("normal", device, out, dtype, backend.default_float_dtype())
    _float_only("normal", dt)
    if std < 0:
        raise RuntimeError(f"normal(): expects std >= 0.0, but found std {std}")
    g = resolve(generator, "normal")
    sample = (g.standard_normal(shape) * std + mean).astype(dt)
    return _finish("normal", sample, out, requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """0/1 draws in ``input``'s dtype: 1 with probability ``input`` (elementwise), or with
    the one probability ``p`` when given."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    probs: Any = _float_tensor("bernoulli", "input", input)
    if p is not None:
        if not 0.0 <= float(p) <= 1.0:
            raise RuntimeError(f"bernoulli(): expects p to be in [0, 1], but got p={p}")
        probs = float(p)
    elif not np.all((probs >= 0) & (probs <= 1)):
        raise RuntimeError("bernoulli(): expected all probabilities of input in [0, 1] "
                           "(no NaN)")
    if out is not None:
        check_out("bernoulli", out)
    g = resolve(generator, "bernoulli")
    sample = (g.random(input.shape) < probs).astype(input.dtype)
    return _result("bernoulli", sample, (input,), out)
