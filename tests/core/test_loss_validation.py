"""What the losses refuse and warn about, checked against torch on the same inputs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from helpers import torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional
NAN = float("nan")


def _outcome(call: Callable[[], Any]) -> tuple[str | None, list[str]]:
    """(exception type name or None, warning messages) of a call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
            error = None
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            error = type(e).__name__
    return error, [f"{w.category.__name__}: {w.message}" for w in caught]


def _torch_size_as_tuple(message: str) -> str:
    """torch's text with deepgrad's names: ``torch.Size([3, 1])`` is ``deepgrad.Size(...)``."""
    return message.replace("torch.", "deepgrad.")


# ---- binary cross-entropy: values outside [0, 1] ------------------------------------------

@pytest.mark.parametrize("x, y, bad", [
    ([0.2, 0.7, 0.9], [0.0, 1.0, 1.5], "target"),
    ([0.2, 0.7, 0.9], [-0.5, 0.0, 1.0], "target"),
    ([0.2, 0.7, 0.9], [0.0, 1.0, NAN], "target"),
    ([1.2, 0.5, 0.5], [0.0, 1.0, 1.0], "input"),
    ([-0.1, 0.5, 0.5], [0.0, 1.0, 1.0], "input"),
    ([NAN, 0.5, 0.5], [0.0, 1.0, 1.0], "input"),
    ([1.5, 0.5, 0.5], [2.0, 1.0, 1.0], "input"),  # both bad: torch names the input
])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_refuses_values_outside_0_1_as_torch(x: list[float], y: list[float], bad: str,
                                                 reduction: str) -> None:
    message = f"all elements of {bad} should be between 0 and 1"
    with pytest.raises(RuntimeError, match=message):
        tF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction=reduction)
    with pytest.raises(RuntimeError, match=f"binary_cross_entropy: {message}"):
        F.binary_cross_entropy(deepgrad.tensor(x), deepgrad.tensor(y), reduction=reduction)
    with pytest.raises(RuntimeError, match=message):
        nn.BCELoss(reduction=reduction)(deepgrad.tensor(x), deepgrad.tensor(y))


def test_bce_accepts_soft_targets_and_the_ends() -> None:
    x, y = [0.0, 0.2, 0.7, 1.0], [0.0, 0.5, 1.0, 1.0]
    ours = F.binary_cross_entropy(deepgrad.tensor(x), deepgrad.tensor(y), reduction="none")
    theirs = tF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_bce_with_logits_does_not_check_targets_as_torch() -> None:
    x, y = [0.2, 0.7, 0.9], [0.0, 1.0, 1.5]
    ours = F.binary_cross_entropy_with_logits(deepgrad.tensor(x), deepgrad.tensor(y))
    theirs = tF.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)


def test_bce_of_empty_tensors_is_not_refused() -> None:
    ours = F.binary_cross_entropy(deepgrad.zeros(0), deepgrad.zeros(0), reduction="sum")
    assert ours.item() == 0.0


# ---- regression losses: a target of another shape that broadcasts --------------------------

REGRESSION = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]
MODULES = {"mse_loss": "MSELoss", "l1_loss": "L1Loss", "smooth_l1_loss": "SmoothL1Loss",
           "huber_loss": "HuberLoss"}


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("shapes", [((3, 1), (3,)), ((3,), (3, 1)), ((1,), ()),
                                    ((4, 3), (3,))])
@pytest.mark.parametrize("name", REGRESSION)
def test_regression_losses_warn_with_torchs_text(name: str,
                                                 shapes: tuple[tuple[int, ...], ...]) -> None:
    x = np.linspace(-1, 1, int(np.prod(shapes[0]))).reshape(shapes[0]).astype(np.float32)
    y = np.full(shapes[1], 0.25, np.float32)
    err_t, theirs = _outcome(lambda: getattr(tF, name)(torch.tensor(x), torch.tensor(y)))
    err_d, ours = _outcome(lambda: getattr(F, name)(deepgrad.tensor(x), deepgrad.tensor(y)))
    assert err_t is err_d is None
    assert len(theirs) == 1 and theirs[0].startswith("UserWarning: Using a target size")
    assert ours == [_torch_size_as_tuple(theirs[0])]
    # and the value is the broadcast one, as torch's
    ours_value = getattr(F, name)(deepgrad.tensor(x), deepgrad.tensor(y)).item()
    theirs_value = getattr(tF, name)(torch.tensor(x), torch.tensor(y)).item()
    np.testing.assert_allclose(ours_value, theirs_value, rtol=1e-6)


@pytest.mark.parametrize("name", REGRESSION)
def test_the_warning_points_at_the_callers_line(name: str) -> None:
    """stacklevel as torch: the line that called the loss (F or the module's forward)."""
    x, y = deepgrad.zeros(3, 1), deepgrad.ones(3)
    with pytest.warns(UserWarning, match="Using a target size") as caught:
        getattr(F, name)(x, y)
    assert caught[0].filename == __file__
    with pytest.warns(UserWarning, match="Using a target size") as caught:
        getattr(nn, MODULES[name])()(x, y)
    assert caught[0].filename.endswith("nn/modules/loss.py")


@pytest.mark.parametrize("name", REGRESSION)
def test_same_shapes_do_not_warn(name: str) -> None:
    _, ours = _outcome(lambda: getattr(F, name)(deepgrad.zeros(3, 2), deepgrad.ones(3, 2)))
    assert ours == []


def test_shapes_that_do_not_broadcast_are_refused_without_the_warning() -> None:
    """torch warns, then fails; deepgrad names the shapes in one ValueError."""
    err, ours = _outcome(lambda: F.mse_loss(deepgrad.zeros(3, 2), deepgrad.zeros(4)))
    assert err == "ValueError" and ours == []
    err_t, _ = _outcome(lambda: tF.mse_loss(torch.zeros(3, 2), torch.zeros(4)))
    assert err_t == "RuntimeError"
