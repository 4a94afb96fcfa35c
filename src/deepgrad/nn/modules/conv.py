"""Convolution layers: ``Conv1d``, ``Conv2d`` and the transposed ``ConvTranspose1d``,
``ConvTranspose2d``, with torch's parameter shapes, initialisation, ``padding_mode`` and
repr, so a state_dict moves between the two libraries unchanged."""

from __future__ import annotations

import math
from typing import Any

from deepgrad import backend
from deepgrad.nn import functional as F
from deepgrad.nn import init
from deepgrad.nn.module import Module
from deepgrad.nn.parameter import Parameter
from deepgrad.tensor import Tensor

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str = "value") -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"expected an int or {n} ints for {name}, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _pair(value: Any) -> tuple[int, int]:
    first, second = _ntuple(value, 2)
    return first, second


class _ConvNd(Module):
    """What the four layers share: checked settings, the weight and bias, torch's init
    (``U(+-1/sqrt(fan_in))``, ``fan_in = weight.shape[1] * prod(kernel)``) and repr."""

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 output_padding: Any = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self.dims
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in PADDING_MODES or (self.transposed and padding_mode != "zeros"):
            allowed = "'zeros'" if self.transposed else ", ".join(map(repr, PADDING_MODES))
            raise ValueError(f"{name}: padding_mode must be one of {allowed}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be ints" +
                                 ("" if self.transposed else ", 'same' or 'valid'") +
                                 f", got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding: Any = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
        self.dilation = _ntuple(dilation, n, "dilation")
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dt = dtype or backend.default_float_dtype()
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(backend.xp.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(backend.xp.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        n = self.dims
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            spatial = ", ".join("HW"[-n:] if n == 2 else "L")
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}): expected input of shape "
                f"(N, {self.in_channels}, {spatial}) or ({self.in_channels}, {spatial}), got "
                f"shape {tuple(input.shape)}")

    def _padded(self, input: Tensor) -> tuple[Tensor, Any]:  # noqa: A002
        """The input padded by ``padding_mode`` (then no padding is left for the conv)."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "valid":
            return input, 0
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            widths = [(t // 2, t - t // 2) for t in totals]
        else:
            widths = [(p, p) for p in self.padding]
        flat = [w for lo_hi in reversed(widths) for w in lo_hi]  # last dim first, as F.pad
        return F.pad(input, flat, mode=self.padding_mode), 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        x, padding = self._padded(input)
        conv = F.conv1d if self.dims == 1 else F.conv2d
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        n = self.dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"  # torch prints 'same' unquoted too
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """Weight ``(out_channels, in_channels // groups, kh, kw)``, bias ``(out_channels,)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class Conv1d(_ConvNd):
    """Weight ``(out_channels, in_channels // groups, k)`` over (N, C, L) sequences."""

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        self._check_input(input)
        conv = F.conv_transpose1d if self.dims == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:  # noqa: A002
        """torch's rule: the ``output_padding`` that makes the output ``output_size``."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        size = [int(s) for s in output_size][-n:]
        if len(size) != n:
            raise ValueError(f"{self._get_name()}: output_size must have {n} or {n + 2} "
                             f"elements, got {list(output_size)}")
        spatial = input.shape[-n:]
        extra = []
        for i in range(n):
            smallest = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(f"{self._get_name()}: requested an output size of {size}, "
                                 f"but valid sizes range from {smallest} to {largest} (for an "
                                 f"input of {list(spatial)})")
            extra.append(size[i] - smallest)
        return tuple(extra)


class ConvTranspose2d(_ConvTransposeNd):
    """The gradient of a Conv2d as a layer (upsampling in decoders, DCGAN's generator):
    weight ``(in_channels, out_channels // groups, kh, kw)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)


class ConvTranspose1d(_ConvTransposeNd):
    """The gradient of a Conv1d as a layer: weight ``(in_channels, out_channels // groups,
    k)``."""

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)
