"""The layers, one family per file, re-exported by ``deepgrad.nn``."""

from deepgrad.nn.modules.activation import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from deepgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from deepgrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from deepgrad.nn.modules.conv import Conv2d
from deepgrad.nn.modules.dropout import Dropout
from deepgrad.nn.modules.flatten import Flatten, Unflatten
from deepgrad.nn.modules.linear import Identity, Linear
from deepgrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from deepgrad.nn.modules.normalization import LayerNorm
from deepgrad.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from deepgrad.nn.modules.sparse import Embedding

__all__ = [
    "ELU", "GELU", "SELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Softplus",
    "Tanh", "BatchNorm1d", "BatchNorm2d", "ModuleDict", "ModuleList", "Sequential", "Conv2d",
    "Dropout", "Flatten", "Unflatten", "Identity", "Linear", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss", "LayerNorm",
    "AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "Embedding",
]
