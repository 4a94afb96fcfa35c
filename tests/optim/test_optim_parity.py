"""Each optimizer and option against torch.optim: 25 steps on the same float64
problem, parameters equal to rtol 1e-5."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optim_cases import dg_params, problem_arrays, run_dg, run_torch, torch_params

from deepgrad import optim
from helpers import torch_or_skip

STEPS = 25
RTOL = 1e-5
ATOL = 1e-12

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.05, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.7}),
    ("Adadelta", {"lr": 1.0, "eps": 1e-4}),
    ("Adadelta", {"lr": 1.0, "weight_decay": 0.05}),
    ("Adadelta", {"lr": 1.0, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "eps": 1e-3}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.01, "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-4}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9)}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.05}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.2)}),
    ("Rprop", {"maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.95)}),
    ("Adamax", {"lr": 0.01, "eps": 1e-3}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.05}),
    ("Adamax", {"lr": 0.01, "maximize": True}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.05}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "maximize": True}),
]


def _case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, kwargs = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults")


def _parity(name: str, groups_dg: Any, groups_torch: Any, kwargs: dict[str, Any],
            params_dg: list[Any], params_torch: list[Any], arrays: Any,
            steps: int = STEPS) -> None:
    torch = torch_or_skip()
    opt_dg = getattr(optim, name)(groups_dg, **kwargs)
    opt_torch = getattr(torch.optim, name)(groups_torch, **kwargs)
    run_dg(opt_dg, params_dg, arrays, steps)
    run_torch(torch, opt_torch, params_torch, arrays, steps)
    for p_dg, p_torch in zip(params_dg, params_torch, strict=True):
        expected = p_torch.detach().numpy()
        moved = not np.allclose(p_dg.data.numpy(), arrays_start(p_dg, arrays))
        assert moved, "parameter never moved"
        np.testing.assert_allclose(p_dg.data.numpy(), expected, rtol=RTOL, atol=ATOL)


def arrays_start(p: Any, arrays: Any) -> np.ndarray:
    """The starting value of the parameter shaped like ``p`` (to check it moved)."""
    for key in ("W1", "b1", "W2"):
        if arrays[key].shape == p.shape:
            return arrays[key]
    raise KeyError(p.shape)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch_after_25_steps(case: tuple[str, dict[str, Any]]) -> None:
    torch = torch_or_skip()
    name, kwargs = case
    arrays = problem_arrays()
    p_dg, p_torch = dg_params(arrays), torch_params(torch, arrays)
    _parity(name, p_dg, p_torch, kwargs, p_dg, p_torch, arrays)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam"])
def test_param_groups_with_their_own_hyperparameters_match_torch(name: str) -> None:
    torch = torch_or_skip()
    arrays = problem_arrays(seed=1)
    p_dg, p_torch = dg_params(arrays), torch_params(torch, arrays)
    extra = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5},
             "Adam": {"betas": (0.5, 0.9)}, "NAdam": {"weight_decay": 0.1}}[name]
    groups_dg = [{"params": p_dg[:2]}, {"params": p_dg[2:], "lr": 0.003, **extra}]
    groups_torch = [{"params": p_torch[:2]}, {"params": p_torch[2:], "lr": 0.003, **extra}]
    _parity(name, groups_dg, groups_torch, {"lr": 0.02}, p_dg, p_torch, arrays)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_lr_changed_through_param_groups_matches_torch(name: str) -> None:
    torch = torch_or_skip()
    arrays = problem_arrays(seed=2)
    p_dg, p_torch = dg_params(arrays), torch_params(torch, arrays)
    opt_dg = getattr(optim, name)(p_dg, lr=0.05)
    opt_torch = getattr(torch.optim, name)(p_torch, lr=0.05)
    sched_dg = optim.lr_scheduler.StepLR(opt_dg, step_size=5, gamma=0.5)
    sched_torch = torch.optim.lr_scheduler.StepLR(opt_torch, step_size=5, gamma=0.5)
    for _ in range(STEPS):
        run_dg(opt_dg, p_dg, arrays, 1)
        run_torch(torch, opt_torch, p_torch, arrays, 1)
        sched_dg.step()
        sched_torch.step()
    assert opt_dg.param_groups[0]["lr"] == pytest.approx(0.05 * 0.5 ** 5)
    for a, b in zip(p_dg, p_torch, strict=True):
        np.testing.assert_allclose(a.data.numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)
