"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch.

Training uses the batch's statistics and updates the running ones in place
(``momentum`` as torch: ``r = (1 - m) r + m * batch``; ``momentum=None`` is a
cumulative average); eval mode uses the running statistics. The maths is one
graph node (``deepgrad.ops.norm.BatchNorm``).
"""

from __future__ import annotations

from typing import Any

from deepgrad import autograd, backend
from deepgrad.nn.module import Module
from deepgrad.nn.modules.normalization import (
    register_affine,
    register_running_stats,
    reset_affine,
)
from deepgrad.ops.norm import batch_norm
from deepgrad.tensor import Tensor


class _BatchNorm(Module):
    _accepted_ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.use_bias = bias
        dt = dtype or backend.default_float_dtype()
        register_affine(self, num_features, affine, bias, dt)
        register_running_stats(self, num_features, track_running_stats, dt)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with autograd.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim not in self._accepted_ndims:
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected "
                f"{' or '.join(f'{d}D' for d in self._accepted_ndims)} input {self._layout}, "
                f"got {input.ndim}D input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected {self.num_features} "
                f"channels in dim 1, got input of shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with autograd.no_grad():
                self.num_batches_tracked._array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._array)
        use_batch = self.training or not self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm for ``(N, C)`` or ``(N, C, L)`` inputs (after a Linear or a Conv1d)."""

    _accepted_ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for ``(N, C, H, W)`` feature maps (after a Conv2d)."""

    _accepted_ndims = (4,)
    _layout = "(N, C, H, W)"
