"""Multilayer perceptrons: report 000 (CIFAR-10) and report 003 (Fashion-MNIST).

Report 000 starts from 3072-100-10 with ReLU, Gaussian init (std 1e-4)
and SGD, then varies init, activation, depth and optimizer; its best
model is 3072-1500-400-10 with ELU, dropout 0.12 and Adam (57.26%).
Report 003 trains 784-200-10 (architecture A) and 784-300-100-10
(architecture B) with Gaussian init (std 0.05) and Adam, then adds
dropout after the first layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepgrad import nn

from .common import init_linear, make_activation
from .registry import ModelSpec, image_shape, register

__all__ = ["MLP", "mlp"]


class MLP(nn.Module):
    """Fully connected layers ``fc1..fcK`` with an activation (and dropout) between them.

    The input is flattened first, so images ``(N, C, H, W)`` go straight in.
    Layers are named ``fc1, [bn1,] act1, [drop1,] fc2, ...`` so weights and activations
    carry the names the reports use.
    """

    def __init__(
        self,
        widths: Sequence[int] = (784, 300, 100, 10),
        activation: str = "relu",
        dropout: float = 0.0,
        init: str = "default",
        init_std: float = 0.01,
        init_scale: float = 0.01,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2 or any(w < 1 for w in widths):
            raise ValueError(
                f"mlp: widths must list at least input and output sizes (all >= 1), got {widths}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
        self.widths = widths
        self.flatten = nn.Flatten()
        self._names: list[str] = []
        depth = len(widths) - 1
        for i in range(depth):
            fc = nn.Linear(widths[i], widths[i + 1])
            init_linear(fc, init, std=init_std, scale=init_scale, where="mlp")
            setattr(self, f"fc{i + 1}", fc)
            self._names.append(f"fc{i + 1}")
            if i < depth - 1 and batch_norm:  # report 000's "creative" addition
                setattr(self, f"bn{i + 1}", nn.BatchNorm1d(widths[i + 1]))
                self._names.append(f"bn{i + 1}")
            if i < depth - 1:
                setattr(self, f"act{i + 1}", make_activation(activation, "mlp"))
                self._names.append(f"act{i + 1}")
                if dropout > 0:
                    setattr(self, f"drop{i + 1}", nn.Dropout(dropout))
                    self._names.append(f"drop{i + 1}")

    def forward(self, x: Any) -> Any:
        x = self.flatten(x)
        if x.shape[1] != self.widths[0]:
            raise ValueError(
                f"mlp: expected {self.widths[0]} input features per sample, "
                f"got input of shape {tuple(x.shape)}"
            )
        for name in self._names:
            x = getattr(self, name)(x)
        return x


def mlp(
    widths: Sequence[int] = (784, 300, 100, 10),
    activation: str = "relu",
    dropout: float = 0.0,
    init: str = "default",
    init_std: float = 0.01,
    init_scale: float = 0.01,
    batch_norm: bool = False,
) -> MLP:
    """An MLP; ``widths`` lists every layer size, input and output included.

    ``batch_norm`` puts a BatchNorm1d between each hidden Linear and its activation.
    """
    return MLP(widths, activation, dropout, init, init_std, init_scale, batch_norm)


register(
    ModelSpec(
        name="mlp",
        builder=mlp,
        report="000, 003",
        description="MLP 784-300-100-10 ReLU (003 arch. B; 000's studies via widths/init)",
        input_shape=(1, 28, 28),
        params=266_610,
        shape_fn=lambda kw: image_shape(list(kw.get("widths", [784]))[0]),
        default={
            "model": {"name": "mlp", "widths": [784, 300, 100, 10], "activation": "relu"},
            "data": {"name": "mnist-sample", "val_split": 0.1},
            "optimizer": {"name": "adam", "lr": 1e-3},
            "loss": "cross_entropy",
            "epochs": 3,
            "batch_size": 64,
        },
    )
)
