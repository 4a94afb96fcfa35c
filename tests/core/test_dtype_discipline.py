"""A float32 model stays float32 through every intermediate of forward and backward
(a silent float64 upcast halves the speed and doubles the memory)."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from deepgrad import autograd, nn
from deepgrad.nn import functional as F


def _mlp() -> tuple[nn.Module, deepgrad.Tensor, deepgrad.Tensor]:
    model = nn.Sequential(nn.Linear(20, 16), nn.ELU(), nn.Dropout(0.2), nn.Linear(16, 16),
                          nn.Sigmoid(), nn.BatchNorm1d(16), nn.Linear(16, 5))
    return model, deepgrad.randn(8, 20), deepgrad.randint(0, 5, (8,))


def _cnn() -> tuple[nn.Module, deepgrad.Tensor, deepgrad.Tensor]:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding="same"), nn.SELU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))
    return model, deepgrad.randn(2, 3, 8, 8), deepgrad.randint(0, 3, (2,))


@pytest.mark.parametrize("build", [_mlp, _cnn], ids=["mlp", "cnn"])
def test_every_intermediate_and_gradient_is_float32(build) -> None:
    model, x, y = build()
    loss = F.cross_entropy(model(x), y) + 1e-3 * sum((p**2).sum() for p in model.parameters())
    nodes = [n for n in autograd.graph_nodes(loss) if isinstance(n, autograd.Context)]
    assert len(nodes) > 10
    seen: list[np.dtype] = []
    for node in nodes:
        node.register_hook(lambda g: seen.append(g.dtype))
    loss.backward()
    assert len(seen) == len(nodes)
    assert set(seen) == {np.dtype(np.float32)}
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name
