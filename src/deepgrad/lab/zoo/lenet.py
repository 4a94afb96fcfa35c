"""Report 002's two CIFAR-10 models: the PyTorch tutorial CNN and LeNet-5.

tutorial-cnn: conv(3->6, 5) ReLU maxpool -> conv(6->16, 5) ReLU maxpool ->
fc 400-120-84-10 with ReLU (62,006 parameters). LeNet-5: conv(3->6, 5)
tanh avgpool -> conv(6->16, 5) tanh avgpool -> conv(16->120, 5) tanh ->
fc 120-84 tanh -> fc 84-10 (62,006 parameters). The report's final run
(tutorial CNN, Adam lr 5e-4, batch 64, 10 epochs) scored 60.32% on test.
"""

from __future__ import annotations

from typing import Any

from deepgrad import nn

from .common import make_activation
from .registry import ModelSpec, register

__all__ = ["TutorialCNN", "LeNet5", "tutorial_cnn", "lenet5"]


class TutorialCNN(nn.Module):
    """The "Training a classifier" CNN of the PyTorch tutorial."""

    def __init__(self, activation: str = "relu", in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.act1 = make_activation(activation, "tutorial-cnn")
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.act2 = make_activation(activation, "tutorial-cnn")
        self.pool2 = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.act3 = make_activation(activation, "tutorial-cnn")
        self.fc2 = nn.Linear(120, 84)
        self.act4 = make_activation(activation, "tutorial-cnn")
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Any) -> Any:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.act3(self.fc1(self.flatten(x)))
        x = self.act4(self.fc2(x))
        return self.fc3(x)


class LeNet5(nn.Module):
    """LeCun et al. (1998) with tanh and average pooling, on 32x32 inputs."""

    def __init__(self, activation: str = "tanh", in_channels: int = 3, num_classes: int = 10,
                 pooling: str = "avg"):
        super().__init__()
        if pooling not in ("avg", "max"):
            raise ValueError(f"lenet5: pooling must be 'avg' or 'max', got {pooling!r}")
        pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.act1 = make_activation(activation, "lenet5")
        self.pool1 = pool(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.act2 = make_activation(activation, "lenet5")
        self.pool2 = pool(2, 2)
        self.conv3 = nn.Conv2d(16, 120, 5)
        self.act3 = make_activation(activation, "lenet5")
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(120, 84)
        self.act4 = make_activation(activation, "lenet5")
        self.fc2 = nn.Linear(84, num_classes)

    def forward(self, x: Any) -> Any:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.act3(self.conv3(x))
        x = self.act4(self.fc1(self.flatten(x)))
        return self.fc2(x)


def tutorial_cnn(
    activation: str = "relu", in_channels: int = 3, num_classes: int = 10
) -> TutorialCNN:
    """Report 002's chosen model (the PyTorch tutorial CNN)."""
    return TutorialCNN(activation, in_channels, num_classes)


def lenet5(activation: str = "tanh", in_channels: int = 3, num_classes: int = 10,
           pooling: str = "avg") -> LeNet5:
    """Report 002's LeNet-5 (tanh, average pooling); ``activation``/``pooling`` swap
    them for the tutorial CNN's ReLU and max pooling (the ablation of experiments/README)."""
    return LeNet5(activation, in_channels, num_classes, pooling)


def _default(name: str) -> dict[str, Any]:
    return {
        "model": {"name": name},
        "data": {"name": "cifar10-jpeg", "val_split": 5000, "subset": 10000},
        "optimizer": {"name": "adam", "lr": 5e-4},
        "loss": "cross_entropy",
        "epochs": 2,
        "batch_size": 64,
    }


register(
    ModelSpec(
        name="tutorial-cnn",
        builder=tutorial_cnn,
        report="002",
        description="PyTorch-tutorial CNN conv(6,16)5x5+maxpool, fc 120-84-10",
        input_shape=(3, 32, 32),
        params=62_006,
        shape_fn=lambda kw: (int(kw.get("in_channels", 3)), 32, 32),
        default=_default("tutorial-cnn"),
    )
)
register(
    ModelSpec(
        name="lenet5",
        builder=lenet5,
        report="002",
        description="LeNet-5 conv(6,16,120)5x5 tanh+avgpool, fc 84-10",
        input_shape=(3, 32, 32),
        params=62_006,
        shape_fn=lambda kw: (int(kw.get("in_channels", 3)), 32, 32),
        default=_default("lenet5"),
    )
)
