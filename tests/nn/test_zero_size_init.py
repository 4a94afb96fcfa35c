"""Zero-size layers as torch builds them: nn.Linear(0, 5), kaiming_* on empty tensors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad as dg
from deepgrad import nn
from deepgrad.nn import Parameter, init
from helpers import torch_or_skip

NO_OP = "Initializing zero-element tensors is a no-op"


def _warnings(build: Callable[[], Any]) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = build()
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (0,), (2, 0, 3, 3)])
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_on_zero_element_tensors_warns_as_torch(name: str,
                                                       shape: tuple[int, ...]) -> None:
    torch = torch_or_skip()
    ours, our_warnings = _warnings(
        lambda: getattr(init, name)(Parameter(np.empty(shape, dtype=np.float32))))
    _, their_warnings = _warnings(lambda: getattr(torch.nn.init, name)(torch.empty(shape)))
    assert our_warnings == their_warnings == [f"UserWarning: {NO_OP}"]
    assert ours.shape == shape


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "uniform_", "normal_",
                                  "trunc_normal_", "orthogonal_", "zeros_", "eye_"])
def test_other_initialisers_accept_zero_element_tensors_silently(name: str) -> None:
    torch = torch_or_skip()
    ours, our_warnings = _warnings(
        lambda: getattr(init, name)(Parameter(np.empty((0, 3), dtype=np.float32))))
    _, their_warnings = _warnings(lambda: getattr(torch.nn.init, name)(torch.empty(0, 3)))
    assert our_warnings == their_warnings == []
    assert ours.shape == (0, 3)


def test_linear_with_no_input_features_gives_the_bias() -> None:
    torch = torch_or_skip()
    layer, ours = _warnings(lambda: nn.Linear(0, 5))
    theirs_layer, theirs = _warnings(lambda: torch.nn.Linear(0, 5))
    assert ours == theirs == [f"UserWarning: {NO_OP}"]
    assert layer.weight.shape == tuple(theirs_layer.weight.shape) == (5, 0)
    # torch's bound is 0 when fan_in is 0: U(0, 0), a zero bias
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros(5, np.float32))
    np.testing.assert_array_equal(theirs_layer.bias.detach().numpy(), np.zeros(5, np.float32))
    with dg.no_grad():
        layer.bias.copy_(dg.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    out = layer(dg.zeros(3, 0))
    assert out.shape == (3, 5)
    np.testing.assert_array_equal(out.detach().numpy(), np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (3, 1)))


def test_linear_with_no_output_features() -> None:
    layer, caught = _warnings(lambda: nn.Linear(4, 0))
    assert caught == [f"UserWarning: {NO_OP}"]
    assert layer(dg.ones(2, 4)).shape == (2, 0)


@pytest.mark.filterwarnings(f"ignore:{NO_OP}")
def test_linear_with_no_input_features_backward() -> None:
    layer = nn.Linear(0, 5)
    x = dg.zeros(3, 0, requires_grad=True)
    layer(x).sum().backward()
    assert layer.bias.grad is not None and layer.bias.grad.tolist() == [3.0] * 5
    assert layer.weight.grad is not None and layer.weight.grad.shape == (5, 0)
    assert x.grad is not None and x.grad.shape == (3, 0)
