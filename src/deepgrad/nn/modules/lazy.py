"""Lazy layers: ``LazyLinear`` and ``LazyConv2d`` learn their input size from the first batch.

As in torch, the weight exists from the start (so an optimizer can already hold it) with
no input dim; the first forward gives it its real shape, initialises it as the eager
layer would, and turns the module into that layer (``LazyLinear`` becomes ``Linear``).
"""

from __future__ import annotations

import warnings
from typing import Any

from deepgrad import autograd, backend
from deepgrad.nn.modules.conv import Conv2d
from deepgrad.nn.modules.linear import Linear
from deepgrad.tensor import Tensor


def _materialize(module: Any, weight_shape: tuple[int, ...], eager: type) -> None:
    with autograd.no_grad():
        module.weight._array = backend.xp.empty(weight_shape, dtype=module.weight.dtype)
        module.weight._version_counter.value += 1
    module.__class__ = eager
    module.reset_parameters()


class LazyLinear(Linear):
    """``Linear`` whose ``in_features`` is the last dim of the first input it sees (or the
    weight of a checkpoint loaded into it)."""

    def materialize_from(self, weight_shape: tuple[int, ...]) -> None:
        """Take the weight's shape from a state dict being loaded (torch does the same)."""
        self.in_features = int(weight_shape[-1])
        _materialize(self, (self.out_features, self.in_features), Linear)

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        with warnings.catch_warnings():  # no weight to initialise yet: nothing to warn about
            warnings.simplefilter("ignore")
            super().__init__(0, out_features, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim == 0:
            raise RuntimeError("LazyLinear: expected an input with a feature dimension, got a "
                               "0-d tensor")
        self.in_features = int(input.shape[-1])
        _materialize(self, (self.out_features, self.in_features), Linear)
        return Linear.forward(self, input)


class LazyConv2d(Conv2d):
    """``Conv2d`` whose ``in_channels`` comes from the first input (dim 1, or 0 unbatched),
    or from the weight of a checkpoint loaded into it."""

    def materialize_from(self, weight_shape: tuple[int, ...]) -> None:
        self.in_channels = int(weight_shape[1]) * self.groups
        _materialize(self, (self.out_channels,) + tuple(weight_shape[1:]), Conv2d)

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(groups, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)
        self.in_channels = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (3, 4):
            raise RuntimeError(f"LazyConv2d: expected a 3-D or 4-D input, got shape "
                               f"{tuple(input.shape)}")
        self.in_channels = int(input.shape[1] if input.ndim == 4 else input.shape[0])
        if self.in_channels % self.groups:
            raise ValueError(f"LazyConv2d: in_channels ({self.in_channels}) must be divisible "
                             f"by groups ({self.groups})")
        shape = (self.out_channels, self.in_channels // self.groups) + tuple(self.kernel_size)
        _materialize(self, shape, Conv2d)
        return Conv2d.forward(self, input)
