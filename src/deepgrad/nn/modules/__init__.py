"""The layers, one family per file, re-exported by ``deepgrad.nn``."""

from deepgrad.nn.modules.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from deepgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from deepgrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from deepgrad.nn.modules.conv import Conv2d
from deepgrad.nn.modules.dropout import Dropout, Dropout2d
from deepgrad.nn.modules.flatten import Flatten, Unflatten
from deepgrad.nn.modules.lazy import LazyConv2d, LazyLinear
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
from deepgrad.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from deepgrad.nn.modules.sparse import Embedding
from deepgrad.nn.modules.sync_batchnorm import SyncBatchNorm

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Dropout2d", "ELU", "Embedding",
    "Flatten", "GELU", "GRU", "GRUCell", "Hardtanh", "Identity", "L1Loss", "LSTM", "LSTMCell",
    "LayerNorm", "LazyConv2d", "LazyLinear", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
    "MaxPool2d", "ModuleDict",
    "ModuleList", "NLLLoss", "RNN", "RNNCell", "ReLU", "ReLU6", "SELU", "Sequential",
    "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "SyncBatchNorm", "Tanh", "Unflatten",
]
