"""The Optimizer machinery: groups, zero_grad, closures, dtypes, state_dict and resume."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from optim_cases import dg_loss, dg_params, problem_arrays, run_dg

import deepgrad as dg
from deepgrad import optim

ALL = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adadelta", {"weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.01}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(ALL)]


def _make(name: str, params: Any, **kwargs: Any) -> Any:
    return getattr(optim, name)(params, **kwargs)


def test_exports() -> None:
    for name in ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW",
                 "Adamax", "NAdam", "lr_scheduler"]:
        assert name in optim.__all__ and hasattr(optim, name)
    assert issubclass(optim.AdamW, optim.Adam)
    assert dg.optim is optim


def test_param_groups_hold_defaults_and_overrides() -> None:
    a, b = dg.zeros(3, requires_grad=True), dg.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.defaults["lr"] == 0.1


def test_add_param_group_trains_the_new_group() -> None:
    a, b = dg.ones(3, requires_grad=True), dg.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 1.0})
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.data.numpy(), 0.9)
    np.testing.assert_allclose(b.data.numpy(), 0.0)


def test_lr_set_through_param_groups_takes_effect() -> None:
    w = dg.ones(4, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    opt.param_groups[0]["lr"] = 0.25
    w.sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data.numpy(), 0.75)


def test_named_parameters_are_accepted() -> None:
    w = dg.ones(2, requires_grad=True)
    opt = optim.Adam([("w", w)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.param_groups[0]["params"][0] is w


def test_zero_grad_sets_none_by_default_and_zeros_on_request() -> None:
    w = dg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None
    np.testing.assert_array_equal(w.grad.data.numpy(), 0.0)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.data.numpy(), 2.0)  # accumulation starts from zero
    opt.zero_grad()
    assert w.grad is None


def test_params_without_grad_are_skipped() -> None:
    a, b = dg.ones(2, requires_grad=True), dg.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.data.numpy(), 1.0)
    assert not np.allclose(a.data.numpy(), 1.0)
    assert b not in opt.state or not opt.state[b]


def test_step_with_closure_returns_the_loss() -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = optim.SGD(params, lr=0.1)

    def closure() -> dg.Tensor:
        opt.zero_grad()
        loss = dg_loss(params, arrays)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    second = opt.step(closure).item()
    assert second < first


def test_step_rejects_a_gradient_of_the_wrong_shape() -> None:
    w = dg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(RuntimeError, match="same size"):
        w.grad = dg.ones(4)  # refused at the assignment, as torch
    w._grad = dg.ones(4)  # the optimizer still checks what reaches it
    with pytest.raises(RuntimeError, match=r"SGD.step: gradient shape \(4,\)"):
        opt.step()


@pytest.mark.parametrize(("name", "kwargs"), ALL, ids=IDS)
def test_float32_parameters_and_state_stay_float32(name: str, kwargs: dict[str, Any]) -> None:
    arrays = problem_arrays(dtype=np.float32)
    params = dg_params(arrays)
    assert all(p.dtype == np.float32 for p in params)
    opt = _make(name, params, **kwargs)
    buffers_before = [p.data.numpy() for p in params]
    run_dg(opt, params, arrays, 3)
    for p, before in zip(params, buffers_before, strict=True):
        assert p.dtype == np.float32
        assert p.data.numpy() is before  # updated in place, never replaced
        for value in opt.state[p].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32 and value.shape == p.shape


@pytest.mark.parametrize(("name", "kwargs"), ALL, ids=IDS)
def test_update_works_in_place_without_new_state_arrays(name: str,
                                                       kwargs: dict[str, Any]) -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = _make(name, params, **kwargs)
    run_dg(opt, params, arrays, 1)
    ids = {id(v) for p in params for v in opt.state[p].values() if isinstance(v, np.ndarray)}
    run_dg(opt, params, arrays, 2)
    assert ids == {id(v) for p in params for v in opt.state[p].values()
                   if isinstance(v, np.ndarray)}


@pytest.mark.parametrize(("name", "kwargs"), ALL, ids=IDS)
def test_state_dict_resume_is_bit_identical(name: str, kwargs: dict[str, Any]) -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = _make(name, params, **kwargs)
    run_dg(opt, params, arrays, 7)
    saved_params = [p.data.numpy().copy() for p in params]
    saved = opt.state_dict()
    run_dg(opt, params, arrays, 8)

    resumed = [dg.tensor(a, requires_grad=True) for a in saved_params]
    fresh = _make(name, resumed, lr=123.0)  # hyperparameters come from the state
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    run_dg(fresh, resumed, arrays, 8)
    for a, b in zip(params, resumed, strict=True):
        np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())


def test_state_dict_layout_is_torch_like() -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.01)
    run_dg(opt, params, arrays, 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1, 2}
    assert sd["state"][0]["step"] == 2 and isinstance(sd["state"][0]["step"], int)
    assert set(sd["state"][2]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][2]["exp_avg"].shape == params[2].shape


def test_state_dict_arrays_are_copies() -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = optim.Adam(params, lr=0.01)
    run_dg(opt, params, arrays, 1)
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 99.0
    sd["param_groups"][0]["lr"] = 5.0
    assert not np.any(opt.state[params[0]]["exp_avg"] == 99.0)
    assert opt.param_groups[0]["lr"] == 0.01
    opt.load_state_dict(sd)
    sd["state"][0]["exp_avg"][...] = -1.0  # the loaded state is a copy too
    assert np.all(opt.state[params[0]]["exp_avg"] == 99.0)


def test_state_dict_survives_a_json_round_trip() -> None:
    """What a safetensors+JSON checkpoint sees: string keys, lists for tuples and arrays."""
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = optim.Adam(params, lr=0.01, betas=(0.8, 0.9))
    run_dg(opt, params, arrays, 3)
    sd = opt.state_dict()
    text = json.dumps(sd, default=lambda a: a.tolist())
    fresh_params = [dg.tensor(p.data.numpy(), requires_grad=True) for p in params]
    fresh = optim.Adam(fresh_params)
    fresh.load_state_dict(json.loads(text))
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)
    assert fresh.state[fresh_params[0]]["step"] == 3
    run_dg(opt, params, arrays, 2)
    run_dg(fresh, fresh_params, arrays, 2)
    for a, b in zip(params, fresh_params, strict=True):
        np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())


def test_load_state_dict_rejects_a_different_number_of_groups() -> None:
    a, b = dg.ones(2, requires_grad=True), dg.ones(3, requires_grad=True)
    sd = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        optim.SGD([a, b], lr=0.1).load_state_dict(sd)


def test_load_state_dict_rejects_a_different_number_of_params() -> None:
    a, b = dg.ones(2, requires_grad=True), dg.ones(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the loaded state, but 1"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_load_state_dict_rejects_wrong_shapes() -> None:
    a = dg.ones((2, 3), requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    a.sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = dg.ones((3, 2), requires_grad=True)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2, 3\), but "
                                         r"the parameter has shape \(3, 2\)"):
        optim.Adam([b], lr=0.1).load_state_dict(sd)


def test_load_state_dict_rejects_garbage() -> None:
    opt = optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="SGD.load_state_dict: expected a dict"):
        opt.load_state_dict({"weights": 1})


def test_load_state_dict_casts_state_to_the_param_dtype() -> None:
    a = dg.ones(3, requires_grad=True)  # float32
    opt = optim.Adam([a], lr=0.1)
    sd = {"state": {0: {"step": 1, "exp_avg": np.ones(3), "exp_avg_sq": np.ones(3)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    assert opt.state[a]["exp_avg"].dtype == np.float32


def test_adamw_stays_decoupled_after_loading() -> None:
    a = dg.ones(3, requires_grad=True)
    sd = optim.Adam([a], lr=0.1).state_dict()
    opt = optim.AdamW([a], lr=0.1)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_repr_lists_the_groups() -> None:
    text = repr(optim.SGD([dg.ones(2, requires_grad=True)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_sgd_step_matches_the_formula() -> None:
    w = dg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    for expected in ([0.5, -2.5], [-0.45, -3.45]):  # buf = g = 1, then 0.9 * 1 + 1
        w.grad = dg.ones(2)
        opt.step()
        np.testing.assert_allclose(w.data.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(("name", "kwargs"), ALL[:1] + ALL[5:6], ids=["SGD", "Adam"])
def test_resume_through_deepgrad_save_is_bit_identical(name: str, kwargs: dict[str, Any],
                                                       tmp_path: Any) -> None:
    arrays = problem_arrays()
    params = dg_params(arrays)
    opt = _make(name, params, **kwargs)
    run_dg(opt, params, arrays, 5)
    path = tmp_path / "optimizer.ckpt"
    dg.save({"optimizer": opt.state_dict(), "params": [p.data.numpy() for p in params]}, str(path))
    back = dg.load(str(path))
    resumed = [dg.tensor(np.asarray(a), requires_grad=True) for a in back["params"]]
    fresh = _make(name, resumed)
    fresh.load_state_dict(back["optimizer"])
    run_dg(opt, params, arrays, 5)
    run_dg(fresh, resumed, arrays, 5)
    for a, b in zip(params, resumed, strict=True):
        np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
