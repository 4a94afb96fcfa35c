"""ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts (whole and
fractional epochs), SequentialLR and ChainedScheduler give torch's learning rates, epoch
for epoch, and resume from their state_dict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import torch_or_skip

torch = torch_or_skip()


def _schedules(lib: Any, kind: str) -> Any:
    S = lib.optim.lr_scheduler
    param = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([{"params": [param]}, {"params": [lib.nn.Parameter(lib.zeros(1))],
                                                "lr": 0.5}], lr=0.1)
    make = {
        "constant": lambda: S.ConstantLR(opt, factor=0.25, total_iters=4),
        "multiplicative": lambda: S.MultiplicativeLR(opt, lambda e: 0.9),
        "polynomial": lambda: S.PolynomialLR(opt, total_iters=6, power=2.0),
        "warm_restarts": lambda: S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2,
                                                               eta_min=0.01),
        "warm_restarts_fixed": lambda: S.CosineAnnealingWarmRestarts(opt, T_0=4),
        "sequential": lambda: S.SequentialLR(opt, [S.LinearLR(opt, 0.1, total_iters=3),
                                                   S.ExponentialLR(opt, 0.8)], milestones=[3]),
        "sequential_three": lambda: S.SequentialLR(
            opt, [S.ConstantLR(opt, 0.5, total_iters=2), S.StepLR(opt, 2, 0.5),
                  S.CosineAnnealingLR(opt, 5)], milestones=[2, 7]),
        "chained": lambda: S.ChainedScheduler([S.ConstantLR(opt, 0.5, total_iters=3),
                                               S.ExponentialLR(opt, 0.9)]),
    }
    return opt, make[kind]()


KINDS = ["constant", "multiplicative", "polynomial", "warm_restarts", "warm_restarts_fixed",
         "sequential", "sequential_three", "chained"]


@pytest.mark.filterwarnings("ignore:The epoch parameter")
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("kind", KINDS)
def test_learning_rates_match_torch(kind: str) -> None:
    lrs = []
    for lib in (deepgrad, torch):
        opt, sched = _schedules(lib, kind)
        seen = [sched.get_last_lr()]
        for _ in range(20):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        lrs.append(seen)
    np.testing.assert_allclose(lrs[0], lrs[1], rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_warm_restarts_with_fractional_epochs() -> None:
    out = []
    for lib in (deepgrad, torch):
        opt, sched = _schedules(lib, "warm_restarts")
        seen = []
        for epoch in range(6):
            for batch in range(4):
                sched.step(epoch + batch / 4)
                seen.append([g["lr"] for g in opt.param_groups])
        out.append(seen)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9)


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("kind", ["polynomial", "warm_restarts", "sequential", "chained"])
def test_resume_from_state_dict(kind: str) -> None:
    opt, sched = _schedules(deepgrad, kind)
    for _ in range(5):
        opt.step()
        sched.step()
    state = sched.state_dict()
    expected = []
    for _ in range(5):
        sched.step()
        expected.append(sched.get_last_lr())
    opt2, sched2 = _schedules(deepgrad, kind)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(state)
    for group, lr in zip(opt2.param_groups, sched2.get_last_lr(), strict=True):
        group["lr"] = lr
    got = []
    for _ in range(5):
        sched2.step()
        got.append(sched2.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-12)
