"""Gradient clipping against torch.nn.utils: same norm returned, same gradients after."""

from __future__ import annotations

import math

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from helpers import torch_or_skip

torch = torch_or_skip()


def pair(scale: float = 1.0) -> tuple[list[deepgrad.Tensor], list]:  # type: ignore[type-arg]
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) * scale for s in [(4, 3), (3,), (2, 2)]]
    ours, theirs = [], []
    for g in grads:
        p = nn.Parameter(np.zeros(g.shape, np.float32))
        p.grad = deepgrad.tensor(g)
        q = torch.nn.Parameter(torch.zeros(g.shape))
        q.grad = torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0),
                                                 (0.3, math.inf)])
def test_clip_grad_norm_matches_torch(max_norm: float, norm_type: float) -> None:
    ours, theirs = pair()
    total_d = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total_d.item(), total_t.item(), rtol=1e-6)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.data.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)
        assert p.grad.dtype == np.float32


def test_clip_grad_value_matches_torch() -> None:
    ours, theirs = pair(scale=2.0)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad.data.numpy(), q.grad.numpy())


def test_clip_on_a_model_and_edge_cases() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    assert nn.utils.clip_grad_norm_(model.parameters(), 1.0).item() == 0.0  # no grads yet
    (model(deepgrad.randn(8, 3)).sum() * 100).backward()
    before = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert before.item() > 1.0
    after = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert after.item() == pytest.approx(1.0, rel=1e-5)
    model[0].weight.grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="non-negative"):
        nn.utils.clip_grad_value_(model.parameters(), -1.0)
