"""Learning-rate schedules against torch.optim.lr_scheduler: the same lr sequence
(40 steps) for the same settings, plus state_dict round trips."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import deepgrad as dg
from deepgrad import optim
from deepgrad.optim import lr_scheduler
from helpers import torch_or_skip

STEPS = 40
RTOL = 1e-12


def _optimizers(torch: Any, name: str = "SGD", groups: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A deepgrad and a torch optimizer with ``groups`` param groups (lrs 0.1, 0.05, ...)."""
    kwargs.setdefault("lr", 0.1)
    lrs = [kwargs["lr"] / (i + 1) for i in range(groups)]
    dg_groups = [{"params": [dg.ones(2, requires_grad=True)], "lr": lr} for lr in lrs]
    torch_groups = [{"params": [torch.ones(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return (getattr(optim, name)(dg_groups, **kwargs),
            getattr(torch.optim, name)(torch_groups, **kwargs))


def _lrs(opt: Any) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def _sequence(opt: Any, sched: Any, steps: int = STEPS) -> list[list[float]]:
    out = [_lrs(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(_lrs(opt))
        assert [float(x) for x in sched.get_last_lr()] == out[-1]
    return out


SCHEDULES: list[tuple[str, dict[str, Any]]] = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 15, "eta_min": 0.001}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.8, "total_iters": 12}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS, "anneal_strategy": "linear",
                    "pct_start": 0.4}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 4, "steps_per_epoch": 10, "three_phase": True,
                    "div_factor": 10.0, "final_div_factor": 100.0}),
]


def _sched_id(case: tuple[str, dict[str, Any]]) -> str:
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("case", SCHEDULES, ids=_sched_id)
@pytest.mark.parametrize("groups", [1, 2])
def test_lr_sequence_matches_torch(case: tuple[str, dict[str, Any]], groups: int) -> None:
    torch = torch_or_skip()
    name, kwargs = case
    opt_dg, opt_torch = _optimizers(torch, "SGD", groups, momentum=0.9)
    seq_dg = _sequence(opt_dg, getattr(lr_scheduler, name)(opt_dg, **kwargs))
    seq_torch = _sequence(opt_torch, getattr(torch.optim.lr_scheduler, name)(opt_torch,
                                                                             **kwargs))
    np.testing.assert_allclose(seq_dg, seq_torch, rtol=RTOL)
    assert len({tuple(s) for s in seq_dg}) > 1  # the schedule does change the lr
    if name == "OneCycleLR":
        np.testing.assert_allclose([g["momentum"] for g in opt_dg.param_groups],
                                   [g["momentum"] for g in opt_torch.param_groups], rtol=RTOL)


def test_lambda_lr_matches_torch_with_one_function_per_group() -> None:
    torch = torch_or_skip()
    fns = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    opt_dg, opt_torch = _optimizers(torch, "SGD", 2)
    seq_dg = _sequence(opt_dg, lr_scheduler.LambdaLR(opt_dg, fns))
    seq_torch = _sequence(opt_torch, torch.optim.lr_scheduler.LambdaLR(opt_torch, fns))
    np.testing.assert_allclose(seq_dg, seq_torch, rtol=RTOL)


def test_lambda_lr_matches_torch_with_a_shared_function() -> None:
    torch = torch_or_skip()

    def warmup(e: int) -> float:
        return min(1.0, (e + 1) / 10)

    opt_dg, opt_torch = _optimizers(torch, "Adam", 2)
    seq_dg = _sequence(opt_dg, lr_scheduler.LambdaLR(opt_dg, warmup))
    seq_torch = _sequence(opt_torch, torch.optim.lr_scheduler.LambdaLR(opt_torch, warmup))
    np.testing.assert_allclose(seq_dg, seq_torch, rtol=RTOL)


def test_one_cycle_cycles_adam_beta1_as_torch() -> None:
    torch = torch_or_skip()
    opt_dg, opt_torch = _optimizers(torch, "Adam", 1)
    s_dg = lr_scheduler.OneCycleLR(opt_dg, max_lr=0.01, total_steps=30)
    s_torch = torch.optim.lr_scheduler.OneCycleLR(opt_torch, max_lr=0.01, total_steps=30)
    for _ in range(29):
        opt_dg.step()
        opt_torch.step()
        s_dg.step()
        s_torch.step()
        assert opt_dg.param_groups[0]["betas"][0] == pytest.approx(
            opt_torch.param_groups[0]["betas"][0], rel=RTOL)
        assert opt_dg.param_groups[0]["lr"] == pytest.approx(opt_torch.param_groups[0]["lr"],
                                                             rel=RTOL)


def test_one_cycle_refuses_to_step_past_the_end() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times"):
        sched.step()


def test_one_cycle_needs_momentum_or_betas() -> None:
    opt = optim.Adagrad([dg.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="Adagrad has neither momentum nor betas"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_one_cycle_needs_a_length() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="total_steps or"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)


PLATEAU_CASES: list[dict[str, Any]] = [
    {},
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {"mode": "max", "patience": 1},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"patience": 1, "cooldown": 3},
    {"patience": 0, "factor": 0.2, "min_lr": 0.003},
    {"patience": 0, "factor": 0.5, "min_lr": [0.01, 0.02]},
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=lambda k: str(k) or "defaults")
def test_reduce_on_plateau_matches_torch(kwargs: dict[str, Any]) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    # a loss that falls, stalls, wobbles and falls again
    metrics = np.concatenate([np.linspace(1.0, 0.5, 10), np.full(14, 0.5),
                              0.5 + 0.02 * rng.standard_normal(12), np.linspace(0.5, 0.3, 10)])
    opt_dg, opt_torch = _optimizers(torch, "SGD", 2)
    s_dg = lr_scheduler.ReduceLROnPlateau(opt_dg, **kwargs)
    s_torch = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_torch, **kwargs)
    seq_dg, seq_torch = [], []
    for m in metrics:
        s_dg.step(dg.tensor(m, dtype="float64"))  # a tensor metric works
        s_torch.step(float(m))
        seq_dg.append(_lrs(opt_dg))
        seq_torch.append(_lrs(opt_torch))
        assert s_dg.get_last_lr() == seq_dg[-1]
        assert s_dg.num_bad_epochs == s_torch.num_bad_epochs
    np.testing.assert_allclose(seq_dg, seq_torch, rtol=RTOL)
    assert seq_dg[-1] != seq_dg[0]


def test_reduce_on_plateau_bad_arguments() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'low'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="low")
    with pytest.raises(ValueError, match="threshold_mode must be 'rel' or 'abs'"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


def _make_all(opt: Any) -> list[Any]:
    return [
        lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
        lr_scheduler.MultiStepLR(opt, milestones=[3, 9], gamma=0.5),
        lr_scheduler.ExponentialLR(opt, gamma=0.9),
        lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.01),
        lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=8),
        lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e),
        lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=30),
    ]


@pytest.mark.parametrize("index", range(7))
def test_state_dict_resumes_the_same_sequence(index: int) -> None:
    def build() -> tuple[Any, Any]:
        opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
        return opt, _make_all(opt)[index]

    opt, sched = build()
    for _ in range(10):
        opt.step()
        sched.step()
    saved_opt = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))
    saved = json.loads(json.dumps(sched.state_dict()))  # the schedule state is plain JSON
    expected = _sequence(opt, sched, 15)

    opt2, sched2 = build()  # scheduler first, then the states (as torch advises)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.last_epoch == 10
    assert _sequence(opt2, sched2, 15) == expected


def test_reduce_on_plateau_state_dict_round_trip() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 0.9, 0.95, 0.95, 0.95]:
        sched.step(m)
    saved = json.loads(json.dumps(sched.state_dict()))
    opt2 = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(saved)
    for m in [0.95, 0.95, 0.95, 0.8, 0.95, 0.95]:
        sched.step(m)
        sched2.step(m)
        assert _lrs(opt) == _lrs(opt2)
    assert sched2.best == 0.8 and sched2.patience == 1


def test_lambda_lr_state_dict_keeps_callable_objects_but_not_functions() -> None:
    class Decay:
        def __init__(self) -> None:
            self.rate = 0.5

        def __call__(self, epoch: int) -> float:
            return self.rate ** epoch

    opt = optim.SGD([{"params": [dg.ones(1, requires_grad=True)]},
                     {"params": [dg.ones(1, requires_grad=True)]}], lr=0.1)
    obj = Decay()
    sched = lr_scheduler.LambdaLR(opt, [obj, lambda e: 1.0])
    obj.rate = 0.25
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.25}, None]
    other = Decay()
    sched2 = lr_scheduler.LambdaLR(opt, [other, lambda e: 1.0])
    sched2.load_state_dict(state)
    assert other.rate == 0.25


def test_scheduler_sets_initial_lr_and_resuming_needs_it() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="'initial_lr' is not specified in param_groups\\[0\\]"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=5)
    lr_scheduler.StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_scheduler_needs_an_optimizer() -> None:
    with pytest.raises(TypeError, match="StepLR: list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=2)  # type: ignore[arg-type]


def test_warns_when_stepped_before_the_optimizer() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR",
                                  "CosineAnnealingLR", "LinearLR"])
def test_step_with_epoch_uses_the_closed_form(name: str) -> None:
    torch = torch_or_skip()
    kwargs = {"StepLR": {"step_size": 3}, "MultiStepLR": {"milestones": [2, 5]},
              "ExponentialLR": {"gamma": 0.8}, "CosineAnnealingLR": {"T_max": 10},
              "LinearLR": {"total_iters": 6}}[name]
    opt_dg, opt_torch = _optimizers(torch)
    s_dg = getattr(lr_scheduler, name)(opt_dg, **kwargs)
    s_torch = getattr(torch.optim.lr_scheduler, name)(opt_torch, **kwargs)
    opt_dg.step()
    opt_torch.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (4, 7, 2):
            s_dg.step(epoch)
            s_torch.step(epoch)
            assert math.isclose(_lrs(opt_dg)[0], _lrs(opt_torch)[0], rel_tol=RTOL)


def test_scheduled_lr_drives_the_update() -> None:
    w = dg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = dg.ones(1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(w.data.numpy(), [-(1.0 + 0.5 + 0.25)])
