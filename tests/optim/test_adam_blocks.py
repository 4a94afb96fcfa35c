"""Adam's blocked update: a parameter larger than one block (with a partial last block)
and a non-contiguous one step exactly as torch.optim.Adam and as the unblocked rule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
from deepgrad import optim
from deepgrad.optim.adam import BLOCK, WHOLE
from helpers import torch_or_skip


@pytest.mark.parametrize("options", [
    {}, {"amsgrad": True, "weight_decay": 0.05}, {"maximize": True},
    {"weight_decay": 0.1, "decoupled_weight_decay": True}])
def test_blocked_adam_matches_torch(options: dict[str, Any]) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    size = WHOLE + BLOCK + 123               # blocks, the last one partial
    start = rng.standard_normal(size).astype(np.float32)
    grads = [rng.standard_normal(size).astype(np.float32) for _ in range(4)]
    p = deepgrad.tensor(start.copy(), requires_grad=True)
    q = torch.tensor(start.copy(), requires_grad=True)
    ours, theirs = optim.Adam([p], lr=0.01, **options), torch.optim.Adam([q], lr=0.01, **options)
    for g in grads:
        p.grad, q.grad = deepgrad.tensor(g), torch.tensor(g)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
    state = ours.state_dict()["state"][0]
    np.testing.assert_allclose(state["exp_avg_sq"], theirs.state_dict()["state"][0]
                               ["exp_avg_sq"].numpy(), rtol=1e-6, atol=1e-12)


def test_non_contiguous_parameter_steps_like_a_contiguous_one() -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((300, 400)).astype(np.float32)
    grad = rng.standard_normal((400, 300)).astype(np.float32)
    strided = deepgrad.from_numpy(base.T)     # shares memory, Fortran order
    dense = deepgrad.tensor(np.ascontiguousarray(base.T))
    assert not strided.numpy().flags.c_contiguous
    for t in (strided, dense):
        t.requires_grad_(True)
        opt = optim.Adam([t], lr=0.1, amsgrad=True)
        for _ in range(3):
            t.grad = deepgrad.tensor(grad)
            opt.step()
    np.testing.assert_array_equal(strided.detach().numpy(), dense.detach().numpy())
