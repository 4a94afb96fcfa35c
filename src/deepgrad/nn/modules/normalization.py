"""``LayerNorm``: normalise each sample over its last dims (one fused graph node)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepgrad import backend
from deepgrad.nn import init
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.ops.composite import local_response_norm
from deepgrad.ops.norm import group_norm, instance_norm, layer_norm, rms_norm
from deepgrad.tensor import Tensor


def register_affine(module: Module, features: Any, weight: bool, bias: bool, dtype: Any) -> None:
    """``weight`` (ones) and ``bias`` (zeros) of a norm layer, or None where switched off."""
    xp = backend.xp
    module.register_parameter("weight", Parameter(xp.ones(features, dtype=dtype))
                              if weight else None)
    module.register_parameter("bias", Parameter(xp.zeros(features, dtype=dtype))
                              if weight and bias else None)


def reset_affine(module: Module) -> None:
    """``weight`` back to ones and ``bias`` to zeros, where the layer has them."""
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    if weight is not None:
        init.ones_(weight)
    if bias is not None:
        init.zeros_(bias)


def register_running_stats(module: Module, features: int, track: bool, dtype: Any) -> None:
    """The ``running_mean``/``running_var``/``num_batches_tracked`` buffers (None when not
    tracked), as batch and instance norm keep them."""
    xp = backend.xp
    stats = ((xp.zeros(features, dtype=dtype), xp.ones(features, dtype=dtype),
              xp.zeros((), dtype=backend.int64)) if track else (None, None, None))
    for name, value in zip(("running_mean", "running_var", "num_batches_tracked"), stats,
                           strict=True):
        module.register_buffer(name, None if value is None else Tensor(value, _copy=False))


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift
    elementwise (``weight`` ones, ``bias`` zeros at init)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.use_bias = bias
        register_affine(self, self.normalized_shape, elementwise_affine, bias,
                        dtype or backend.default_float_dtype())

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != self.normalized_shape:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}): expected input whose last {k} "
                f"dim(s) are {self.normalized_shape}, got shape {tuple(input.shape)}")
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


class GroupNorm(Module):
    """Normalise each sample's channels in ``num_groups`` groups, then a per-channel
    ``weight`` (ones) and ``bias`` (zeros) when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine, self.use_bias = eps, affine, affine and bias
        register_affine(self, num_channels, affine, bias, dtype or backend.default_float_dtype())

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.use_bias}")


class _InstanceNorm(Module):
    """Each channel of each sample normalised over its positions; torch's defaults: no
    affine parameters, no running statistics."""

    dims = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = affine and bias
        dt = dtype or backend.default_float_dtype()
        register_affine(self, num_features, affine, bias, dt)
        # torch keeps num_batches_tracked at 0 for instance norm
        register_running_stats(self, num_features, track_running_stats, dt)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        n = self.dims
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{type(self).__name__}: expected {n + 1}-D or {n + 2}-D input, "
                             f"got {input.ndim}-D input of shape {tuple(input.shape)}")
        unbatched = input.ndim == n + 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(f"{type(self).__name__}: expected input's size at dim 1 to match "
                             f"num_features ({self.num_features}), but got: {x.shape[1]}.")
        use_input_stats = self.training or not self.track_running_stats
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L)."""

    dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) (style transfer's normalisation)."""


class RMSNorm(Module):
    """Root-mean-square norm over the trailing ``normalized_shape`` dims (LLaMA's), then an
    elementwise ``weight`` (ones at init)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtype or backend.default_float_dtype()
        self.register_parameter("weight", Parameter(backend.xp.ones(self.normalized_shape,
                                                                    dtype=dt))
                                if elementwise_affine else None)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """AlexNet's normalisation across ``size`` neighbouring channels."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
