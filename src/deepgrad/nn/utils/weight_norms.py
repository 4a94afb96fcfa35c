"""``weight_norm`` and ``spectral_norm``: a layer's weight re-parametrised before every
forward (a pre-hook), as torch.nn.utils has them (the GAN and WaveNet papers' code).

``weight_norm`` learns a direction ``v`` and a magnitude ``g`` (``weight = g v / ||v||``,
the norm over every dim but ``dim``). ``spectral_norm`` divides the weight by its largest
singular value, estimated by power iteration on buffers ``u``, ``v`` that training
refines one step per forward; in eval mode the estimate is frozen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.autograd import no_grad
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.ops import shape as S
from deepgrad.tensor import Tensor

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    if dim == -1:
        return v.norm()
    moved = S.transpose(v, 0, dim) if dim else v
    norms = S.reshape(moved, (moved.shape[0], -1)).norm(2, 1)
    shape = [1] * v.ndim
    shape[dim] = v.shape[dim]
    return S.reshape(norms, tuple(shape))


class _WeightNorm:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute(self, module: Module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replace ``module.<name>`` by ``<name>_g * <name>_v / ||<name>_v||`` (two parameters)."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                               f"{name}")
    weight = module._parameters.pop(name)
    dim = -1 if dim is None else dim % weight.ndim
    fn = _WeightNorm(name, dim)
    with no_grad():
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach().clone()))
    object.__setattr__(module, name, fn.compute(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Put the plain ``<name>`` parameter back, with the current value."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute(module).detach().clone()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_g"], module._parameters[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


class _SpectralNorm:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight: Tensor) -> Tensor:
        w = S.permute(weight, (self.dim, *[d for d in range(weight.ndim) if d != self.dim])) \
            if self.dim else weight
        return S.reshape(w, (w.shape[0], -1))

    def compute(self, module: Module, power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(weight)
        if power_iteration:
            m = mat._array
            uu, vv = u._array, v._array
            for _ in range(self.n_power_iterations):  # in place: the buffers keep the estimate
                vv[...] = m.T @ uu
                vv /= max(float(np.linalg.norm(vv)), self.eps)
                uu[...] = m @ vv
                uu /= max(float(np.linalg.norm(uu)), self.eps)
            u, v = u.clone(), v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm before every forward; ``dim`` is the
    output dim (0, or 1 for transposed convolutions)."""
    from deepgrad.nn.modules.conv import ConvTranspose1d, ConvTranspose2d

    if n_power_iterations <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    weight = module._parameters.pop(name)
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        h, w = fn.matrix(weight).shape
        u = np.random.default_rng().standard_normal(h).astype(weight.dtype)
        v = np.random.default_rng().standard_normal(w).astype(weight.dtype)
        u /= max(float(np.linalg.norm(u)), eps)
        v /= max(float(np.linalg.norm(v)), eps)
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", Tensor(u, _copy=False))
    module.register_buffer(name + "_v", Tensor(v, _copy=False))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Put the plain ``<name>`` parameter back, normalised by the current estimate."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute(module, False).detach().clone()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"], module._buffers[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
