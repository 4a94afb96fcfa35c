"""``deepgrad.nn.functional`` (``F``): the stateless ops that torch code calls as ``F.*``.

Everything here is defined in ``deepgrad.ops``; this module only gathers the names,
so ``import deepgrad.nn.functional as F`` reads like torch.
"""

from __future__ import annotations

from deepgrad.ops.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    relu,
    relu6,
    selu,
    sigmoid,
    softplus,
    tanh,
)
from deepgrad.ops.conv import conv2d
from deepgrad.ops.dropout import dropout, dropout2d
from deepgrad.ops.embedding import embedding
from deepgrad.ops.linalg import linear
from deepgrad.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    smooth_l1_loss,
    softmax,
)
from deepgrad.ops.norm import batch_norm, layer_norm
from deepgrad.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)
from deepgrad.ops.shape import flatten, pad

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "flatten",
    "gelu",
    "hardtanh",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
