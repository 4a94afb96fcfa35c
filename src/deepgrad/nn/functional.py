"""``deepgrad.nn.functional`` (``F``): the stateless ops that torch code calls as ``F.*``.

Everything here is defined in ``deepgrad.ops``; this module only gathers the names,
so ``import deepgrad.nn.functional as F`` reads like torch.
"""

from __future__ import annotations

from typing import Any

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
from deepgrad.ops.attention import scaled_dot_product_attention
from deepgrad.ops.composite import (
    alpha_dropout,
    bilinear,
    celu,
    celu_,
    cosine_similarity,
    elu_,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh_,
    kl_div,
    leaky_relu_,
    local_response_norm,
    logsigmoid,
    mish,
    normalize,
    pairwise_distance,
    prelu,
    relu_,
    rrelu,
    rrelu_,
    selu_,
    silu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from deepgrad.ops.conv import conv2d
from deepgrad.ops.conv_variants import conv1d, conv_transpose1d, conv_transpose2d, fold, unfold
from deepgrad.ops.dropout import dropout, dropout1d, dropout2d
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
from deepgrad.ops.loss_margin import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from deepgrad.ops.norm import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from deepgrad.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)
from deepgrad.ops.resample import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    avg_pool1d,
    interpolate,
    max_pool1d,
    max_unpool1d,
    max_unpool2d,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from deepgrad.ops.shape import flatten, pad


def max_pool2d_with_indices(*args: Any, **kwargs: Any) -> Any:
    """``max_pool2d(..., return_indices=True)`` under torch's other name."""
    return max_pool2d(*args, **{**kwargs, "return_indices": True})


def max_pool1d_with_indices(*args: Any, **kwargs: Any) -> Any:
    return max_pool1d(*args, **{**kwargs, "return_indices": True})


def adaptive_max_pool2d_with_indices(input: Any, output_size: Any) -> Any:  # noqa: A002
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool1d_with_indices(input: Any, output_size: Any) -> Any:  # noqa: A002
    return adaptive_max_pool1d(input, output_size, return_indices=True)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "alpha_dropout",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "celu_",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "elu_",
    "embedding",
    "flatten",
    "fold",
    "gaussian_nll_loss",
    "gelu",
    "glu",
    "group_norm",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "hinge_embedding_loss",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "leaky_relu_",
    "linear",
    "local_response_norm",
    "log_softmax",
    "logsigmoid",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "mish",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "relu",
    "relu6",
    "relu_",
    "rms_norm",
    "rrelu",
    "rrelu_",
    "scaled_dot_product_attention",
    "selu",
    "selu_",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "threshold_",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
