"""``Linear`` (``y = x W^T + b``) and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from deepgrad import backend
from deepgrad.nn import functional as F
from deepgrad.nn import init
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor


class Identity(Module):
    """Returns its input: a placeholder where a layer is switched off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """A fully connected layer: weight ``(out_features, in_features)``, bias ``(out,)``.

    Initialised as torch: ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` for both.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: feature counts must be non-negative, got "
                             f"in_features={in_features}, out_features={out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dt = dtype or backend.default_float_dtype()
        self.weight = Parameter(backend.xp.empty((out_features, in_features), dtype=dt))
        if bias:
            self.bias = Parameter(backend.xp.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: Kaiming-uniform with ``a=sqrt(5)`` = U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}): expected input with "
                f"{self.in_features} features in the last dimension, got shape "
                f"{tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_o = x1^T W_o x2 + b_o``: weight (out, in1, in2), initialised as torch
    (``U(+-1/sqrt(in1_features))``)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dt = dtype or backend.default_float_dtype()
        self.weight = Parameter(backend.xp.empty((out_features, in1_features, in2_features),
                                                 dtype=dt))
        self.register_parameter("bias", Parameter(backend.xp.empty(out_features, dtype=dt))
                                if bias else None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from deepgrad.ops.composite import bilinear

        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
