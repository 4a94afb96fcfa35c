"""Report 001's MNIST CNN (the TensorFlow "Deep MNIST" network) and its 3x3 variant.

conv(1->32, 5x5, same) ReLU maxpool2 -> conv(32->64, 5x5, same) ReLU maxpool2
-> fc 3136->1024 ReLU -> dropout 0.5 -> fc 1024->10: 3,274,634 parameters,
98.96% test accuracy in the report (99.27% with L2). The 3x3 variant
(3,241,354 parameters; 6,508,298 with channels 64/128) reached 99.02%.
Report 004's task 2 trains the same network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepgrad import nn

from .common import make_activation
from .registry import ModelSpec, register

__all__ = ["MnistCNN", "mnist_cnn", "mnist_cnn_3x3"]


class MnistCNN(nn.Module):
    """Two same-padded conv+pool blocks, a wide hidden layer with dropout, and logits."""

    def __init__(
        self,
        kernel_size: int = 5,
        channels: Sequence[int] = (32, 64),
        hidden: int = 1024,
        dropout: float = 0.5,
        activation: str = "relu",
        in_channels: int = 1,
        image_size: int = 28,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(
                f"mnist-cnn: kernel_size must be odd for 'same' padding, got {kernel_size}"
            )
        if len(channels) != 2:
            raise ValueError(f"mnist-cnn: channels must be two numbers, got {list(channels)}")
        c1, c2 = (int(c) for c in channels)
        pad = kernel_size // 2
        side = image_size // 4
        self.conv1 = nn.Conv2d(in_channels, c1, kernel_size, padding=pad)
        self.act1 = make_activation(activation, "mnist-cnn")
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size, padding=pad)
        self.act2 = make_activation(activation, "mnist-cnn")
        self.pool2 = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(c2 * side * side, hidden)
        self.act3 = make_activation(activation, "mnist-cnn")
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: Any) -> Any:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.act3(self.fc1(self.flatten(x)))
        return self.fc2(self.dropout(x))


def mnist_cnn(
    kernel_size: int = 5,
    channels: Sequence[int] = (32, 64),
    hidden: int = 1024,
    dropout: float = 0.5,
    activation: str = "relu",
    num_classes: int = 10,
) -> MnistCNN:
    """Report 001's MNIST CNN (5x5 kernels)."""
    return MnistCNN(kernel_size, channels, hidden, dropout, activation, num_classes=num_classes)


def mnist_cnn_3x3(
    channels: Sequence[int] = (32, 64),
    hidden: int = 1024,
    dropout: float = 0.5,
    activation: str = "relu",
    num_classes: int = 10,
) -> MnistCNN:
    """Report 001's discussion variant: 3x3 kernels (``channels: [64, 128]`` doubles them)."""
    return MnistCNN(3, channels, hidden, dropout, activation, num_classes=num_classes)


_DEFAULT = {
    "data": {"name": "mnist-sample", "split": "test"},
    "optimizer": {"name": "adam", "lr": 1e-3},
    "loss": "cross_entropy",
    "epochs": 1,  # one pass over the 5,000 sample digits: ~96-97% test accuracy in < 1 min
    "batch_size": 32,
}

register(
    ModelSpec(
        name="mnist-cnn",
        builder=mnist_cnn,
        report="001",
        description="MNIST CNN conv5x5(32)-pool-conv5x5(64)-pool-fc1024-dropout-fc10",
        input_shape=(1, 28, 28),
        params=3_274_634,
        default={"model": {"name": "mnist-cnn"}, **_DEFAULT},
    )
)
register(
    ModelSpec(
        name="mnist-cnn-3x3",
        builder=mnist_cnn_3x3,
        report="001",
        description="mnist-cnn with 3x3 kernels (channels [64, 128] doubles it)",
        input_shape=(1, 28, 28),
        params=3_241_354,
        default={"model": {"name": "mnist-cnn-3x3"}, **_DEFAULT},
    )
)
