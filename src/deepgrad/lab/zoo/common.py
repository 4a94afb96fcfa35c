"""Pieces the zoo models share: activations by name and the reports' weight inits.

Report 000 compares inits on one MLP (Gaussian with a small std, uniform
in [-scale, scale], Xavier); report 004 scales Gaussian weights by
1/sqrt(fan_in). They are named here so a config can pick them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad import backend, nn

__all__ = ["ACTIVATIONS", "INITS", "make_activation", "init_linear"]

ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "elu",
    "selu",
    "leaky_relu",
    "gelu",
    "softplus",
    "identity",
)
INITS = (
    "default", "normal", "truncated_normal", "uniform", "xavier", "xavier_normal", "kaiming",
    "lecun", "zeros",
)


def make_activation(name: str, where: str = "model") -> nn.Module:
    """A fresh activation module by name (one per use, so hooks see each layer's output)."""
    table: dict[str, Any] = {
        "relu": lambda: nn.ReLU(),
        "tanh": lambda: nn.Tanh(),
        "sigmoid": lambda: nn.Sigmoid(),
        "elu": lambda: nn.ELU(),
        "selu": lambda: nn.SELU(),
        "leaky_relu": lambda: nn.LeakyReLU(),
        "gelu": lambda: nn.GELU(),
        "softplus": lambda: nn.Softplus(),
        "identity": lambda: nn.Identity(),
    }
    key = name.lower().replace("-", "_")
    if key not in table:
        raise ValueError(
            f"{where}: unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}"
        )
    return table[key]()


def init_linear(
    layer: Any, init: str, *, std: float = 0.01, scale: float = 0.01, where: str = "model"
) -> None:
    """Re-initialise a Linear/Conv layer's weight in place; biases start at zero.

    ``default`` keeps the layer's own (PyTorch's) init, bias included.
    ``normal``: N(0, std^2). ``uniform``: U(-scale, scale). ``xavier``: Glorot uniform
    (TensorFlow's ``xavier_initializer``). ``xavier_normal``: Glorot normal.
    ``kaiming``: He normal for ReLU. ``lecun``: N(0, 1/fan_in), report 004's
    ``randn(fan_in, fan_out) / sqrt(fan_in)``. ``truncated_normal``: N(0, std^2)
    redrawn beyond 2 std (TensorFlow's ``truncated_normal``). ``zeros``: all zero
    (report 000's sweep shows why symmetric weights cannot learn).
    """
    key = init.lower().replace("-", "_")
    if key not in INITS:
        raise ValueError(f"{where}: unknown init {init!r}; expected one of {', '.join(INITS)}")
    if key == "default":
        return
    weight = layer.weight._array
    fan_out = weight.shape[0]
    fan_in = int(np.prod(weight.shape[1:]))
    rng = backend.get_generator()
    if key == "normal":
        values = rng.normal(0.0, std, weight.shape)
    elif key == "uniform":
        values = rng.uniform(-scale, scale, weight.shape)
    elif key == "xavier":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        values = rng.uniform(-bound, bound, weight.shape)
    elif key == "xavier_normal":
        values = rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), weight.shape)
    elif key == "truncated_normal":
        values = rng.normal(0.0, std, weight.shape)
        bad = np.abs(values) > 2 * std
        while bad.any():  # redraw the tails, as TensorFlow does
            values[bad] = rng.normal(0.0, std, int(bad.sum()))
            bad = np.abs(values) > 2 * std
    elif key == "zeros":
        values = np.zeros(weight.shape)
    elif key == "kaiming":
        values = rng.normal(0.0, math.sqrt(2.0 / fan_in), weight.shape)
    else:  # lecun
        values = rng.normal(0.0, 1.0 / math.sqrt(fan_in), weight.shape)
    weight[...] = values.astype(weight.dtype)
    if getattr(layer, "bias", None) is not None:
        layer.bias._array[...] = 0
