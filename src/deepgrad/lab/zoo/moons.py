"""Report 004's three-layer network on the two-moons data.

input (2) -> hidden (tanh, 3 units by default) -> output (2, softmax in the
loss): the NumPy network whose backward pass the report derives by hand
(``examples/manual_backprop.py`` keeps that version). Weights start as
``randn(fan_in, fan_out) / sqrt(fan_in)`` and biases at zero (``init: lecun``).
"""

from __future__ import annotations

from typing import Any

from deepgrad import nn

from .common import init_linear, make_activation
from .registry import ModelSpec, register

__all__ = ["MoonsNet", "moons_net"]


class MoonsNet(nn.Module):
    """``fc1 -> act1 -> fc2``: one hidden layer, logits out."""

    def __init__(
        self,
        hidden: int = 3,
        activation: str = "tanh",
        in_features: int = 2,
        num_classes: int = 2,
        init: str = "lecun",
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.act1 = make_activation(activation, "moons-net")
        self.fc2 = nn.Linear(hidden, num_classes)
        init_linear(self.fc1, init, where="moons-net")
        init_linear(self.fc2, init, where="moons-net")

    def forward(self, x: Any) -> Any:
        return self.fc2(self.act1(self.fc1(x)))


def moons_net(
    hidden: int = 3,
    activation: str = "tanh",
    in_features: int = 2,
    num_classes: int = 2,
    init: str = "lecun",
) -> MoonsNet:
    """Report 004's 3-layer network (``activation``: tanh, sigmoid or relu)."""
    return MoonsNet(hidden, activation, in_features, num_classes, init)


register(
    ModelSpec(
        name="moons-net",
        builder=moons_net,
        report="004",
        description="3-layer net 2-3-2 (tanh) on two moons",
        input_shape=(2,),
        params=17,
        shape_fn=lambda kw: (int(kw.get("in_features", 2)),),
        default={
            "model": {"name": "moons-net"},
            "data": {
                "name": "moons",
                "val_split": 0.2,
                "options": {"n_samples": 1000, "noise": 0.2},
            },
            "optimizer": {"name": "adam", "lr": 0.05},
            "loss": "cross_entropy",
            "epochs": 30,
            "batch_size": 32,
        },
    )
)
