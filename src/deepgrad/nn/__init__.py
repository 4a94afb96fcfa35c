"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, the
layers (one family per file in ``modules/``), ``functional`` (``F``), ``init`` and
``utils``. ``deepgrad.nn.Conv2d(1, 32, 5, padding=2)`` is ``torch.nn.Conv2d(...)``."""

from deepgrad.nn import functional, init, utils
from deepgrad.nn.module import Module, RemovableHandle
from deepgrad.nn.modules import (
    ELU,
    GELU,
    GRU,
    LSTM,
    RNN,
    SELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    GRUCell,
    Hardtanh,
    Identity,
    L1Loss,
    LayerNorm,
    LazyConv2d,
    LazyLinear,
    LeakyReLU,
    Linear,
    LogSoftmax,
    LSTMCell,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    ReLU6,
    RNNCell,
    Sequential,
    Sigmoid,
    SmoothL1Loss,
    Softmax,
    Softplus,
    SyncBatchNorm,
    Tanh,
    Unflatten,
)
from deepgrad.nn.parameter import Buffer, Parameter
from deepgrad.nn import parallel  # noqa: E402  (after the layers: it reaches distributed lazily)

__all__ = [
    "functional", "init", "utils", "Module", "RemovableHandle", "Parameter", "Buffer",
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Dropout2d", "ELU", "Embedding",
    "Flatten", "GELU", "GRU", "GRUCell", "Hardtanh", "Identity", "L1Loss", "LSTM", "LSTMCell",
    "LayerNorm", "LazyConv2d", "LazyLinear", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
    "MaxPool2d", "ModuleDict",
    "ModuleList", "NLLLoss", "RNN", "RNNCell", "ReLU", "ReLU6", "SELU", "Sequential",
    "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "SyncBatchNorm", "Tanh", "Unflatten",
    "parallel",
]
