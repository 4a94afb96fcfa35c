"""Report 003's denoising autoencoder on Fashion-MNIST.

784-128-64-32-64-128-784, ReLU inside, sigmoid on the output so pixels
stay in [0, 1]; trained on noisy inputs against clean targets with MSE
(the report also reports MAE). 222,384 parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepgrad import nn

from .common import make_activation
from .registry import ModelSpec, image_shape, register

__all__ = ["DenoisingAE", "denoising_ae"]


class DenoisingAE(nn.Module):
    """A fully connected encoder/decoder; the output has the input's shape."""

    def __init__(
        self,
        widths: Sequence[int] = (784, 128, 64, 32, 64, 128, 784),
        activation: str = "relu",
        out_activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 3 or widths[0] != widths[-1]:
            raise ValueError(
                f"denoising-ae: widths must start and end with the input size, got {widths}"
            )
        self.widths = widths
        self.flatten = nn.Flatten()
        self._names: list[str] = []
        depth = len(widths) - 1
        for i in range(depth):
            setattr(self, f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))
            last = i == depth - 1
            act = make_activation(out_activation if last else activation, "denoising-ae")
            setattr(self, f"act{i + 1}", act)
            self._names += [f"fc{i + 1}", f"act{i + 1}"]

    def forward(self, x: Any) -> Any:
        shape = tuple(x.shape)
        h = self.flatten(x)
        for name in self._names:
            h = getattr(self, name)(h)
        return h.reshape(shape)


def denoising_ae(
    widths: Sequence[int] = (784, 128, 64, 32, 64, 128, 784),
    activation: str = "relu",
    out_activation: str = "sigmoid",
) -> DenoisingAE:
    """Report 003's denoising autoencoder."""
    return DenoisingAE(widths, activation, out_activation)


register(
    ModelSpec(
        name="denoising-ae",
        builder=denoising_ae,
        report="003",
        description="denoising autoencoder 784-128-64-32-64-128-784, sigmoid output",
        input_shape=(1, 28, 28),
        params=222_384,
        shape_fn=lambda kw: image_shape(list(kw.get("widths", [784]))[0]),
        task="autoencoder",
        default={
            "model": {"name": "denoising-ae"},
            "data": {"name": "mnist-sample", "noise": 0.3},
            "optimizer": {"name": "adam", "lr": 1e-3},
            "loss": "mse",
            "epochs": 3,
            "batch_size": 64,
        },
    )
)
