"""``nn.utils.parameters_to_vector`` / ``vector_to_parameters`` against torch."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from helpers import torch_or_skip

torch = torch_or_skip()


def test_parameters_to_vector_and_back() -> None:
    from deepgrad.nn.utils import parameters_to_vector, vector_to_parameters

    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    vec = parameters_to_vector(ours.parameters())
    np.testing.assert_array_equal(
        vec.detach().numpy(),
        torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
    (vec ** 2).sum().backward()  # differentiable, as torch
    assert ours[0].weight.grad is not None
    vector_to_parameters(deepgrad.arange(26, dtype=deepgrad.float32), ours.parameters())
    assert ours[2].bias.tolist() == [24.0, 25.0] and ours[0].weight[0].tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="the vector has 3 elements"):
        vector_to_parameters(deepgrad.zeros(3), ours.parameters())
