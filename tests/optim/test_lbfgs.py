"""optim.LBFGS against torch.optim.LBFGS: the same float64 problems stepped side by side,
parameters, losses and state equal to rtol 1e-6; checkpoints; the refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepgrad as dg
from deepgrad import optim
from helpers import torch_or_skip

RTOL = 1e-6
ATOL = 1e-10
LINE_SEARCHES = [None, "strong_wolfe"]


def rosenbrock(x: Any) -> Any:
    """The same expression on deepgrad and torch tensors (a curved valley, minimum at 1)."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def logistic_data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 3))
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 + rng.normal(scale=2.0, size=40) > 0)
    return {"X": x, "Y": y.astype(np.float64), "w": rng.normal(scale=0.1, size=(3,)),
            "b": np.zeros(1)}


def logistic_loss(lib: Any, w: Any, b: Any, data: dict[str, np.ndarray]) -> Any:
    """Mean binary cross-entropy of sigmoid(X w + b), written out so both libraries run it."""
    x, y = lib.tensor(data["X"]), lib.tensor(data["Y"])
    p = lib.sigmoid(x @ w + b)
    return -(y * lib.log(p) + (1 - y) * lib.log(1 - p)).mean()


def make_closure(opt: Any, loss_fn: Callable[[], Any]) -> Callable[[], Any]:
    def closure() -> Any:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def assert_state_close(dg_state: dict[str, Any], torch_state: dict[str, Any]) -> None:
    """deepgrad's state (NumPy) equals torch's (tensors) key for key."""
    assert set(dg_state) == set(torch_state)
    for key, theirs in torch_state.items():
        ours = dg_state[key]
        if isinstance(theirs, list):
            assert len(ours) == len(theirs), key
            pairs = list(zip(ours, theirs, strict=True))
        else:
            pairs = [(ours, theirs)]
        for a, b in pairs:
            if b is None:
                assert a is None, key
                continue
            b = np.asarray(b.detach().numpy() if hasattr(b, "detach") else b, dtype=np.float64)
            # steps s are differences of iterates: their small entries carry the iterates'
            # rounding, so compare them to the scale of the vector
            np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=RTOL,
                                       atol=ATOL + RTOL * float(np.abs(b).max()), err_msg=key)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("kwargs", [{"max_iter": 4}, {"max_iter": 7, "history_size": 3},
                                    {"lr": 0.5, "max_iter": 5, "max_eval": 6}])
def test_rosenbrock_matches_torch(line_search_fn: str | None, kwargs: dict[str, Any]) -> None:
    torch = torch_or_skip()
    x0 = np.array([-1.5, 2.0, 0.5, -0.7, 1.2])
    xd = dg.tensor(x0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    od = optim.LBFGS([xd], line_search_fn=line_search_fn, **kwargs)
    ot = torch.optim.LBFGS([xt], line_search_fn=line_search_fn, **kwargs)
    cd = make_closure(od, lambda: rosenbrock(xd))
    ct = make_closure(ot, lambda: rosenbrock(xt))
    for _ in range(6):
        ld, lt = od.step(cd), ot.step(ct)
        assert isinstance(ld, dg.Tensor)
        np.testing.assert_allclose(ld.item(), lt.item(), rtol=RTOL)
        np.testing.assert_allclose(xd.detach().numpy(), xt.detach().numpy(), rtol=RTOL,
                                   atol=ATOL)
    assert_state_close(od.state[xd], ot.state[xt])
    assert rosenbrock(xd).item() < rosenbrock(dg.tensor(x0)).item()


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_logistic_regression_matches_torch(line_search_fn: str | None) -> None:
    """Two parameters (weights and bias) flattened into one vector, as torch does."""
    torch = torch_or_skip()
    data = logistic_data()
    wd, bd = dg.tensor(data["w"], requires_grad=True), dg.tensor(data["b"], requires_grad=True)
    wt = torch.tensor(data["w"], requires_grad=True)
    bt = torch.tensor(data["b"], requires_grad=True)
    od = optim.LBFGS([wd, bd], lr=0.8, max_iter=5, history_size=4,
                     line_search_fn=line_search_fn)
    ot = torch.optim.LBFGS([wt, bt], lr=0.8, max_iter=5, history_size=4,
                           line_search_fn=line_search_fn)
    cd = make_closure(od, lambda: logistic_loss(dg, wd, bd, data))
    ct = make_closure(ot, lambda: logistic_loss(torch, wt, bt, data))
    losses = []
    for _ in range(4):
        ld, lt = od.step(cd), ot.step(ct)
        losses.append(ld.item())
        np.testing.assert_allclose(ld.item(), lt.item(), rtol=RTOL)
        np.testing.assert_allclose(wd.detach().numpy(), wt.detach().numpy(), rtol=RTOL,
                                   atol=ATOL)
        np.testing.assert_allclose(bd.detach().numpy(), bt.detach().numpy(), rtol=RTOL,
                                   atol=ATOL)
    assert losses[-1] < losses[0]
    assert_state_close(od.state[wd], ot.state[wt])


def test_float32_follows_torch() -> None:
    """float32 parameters keep a float32 state and track torch's iterates (to float32
    rounding, which the curvature pairs amplify for a while, hence the looser rtol)."""
    torch = torch_or_skip()
    data = {k: v.astype(np.float32) for k, v in logistic_data().items()}
    wd, bd = dg.tensor(data["w"], requires_grad=True), dg.tensor(data["b"], requires_grad=True)
    wt = torch.tensor(data["w"], requires_grad=True)
    bt = torch.tensor(data["b"], requires_grad=True)
    od = optim.LBFGS([wd, bd], lr=0.8, max_iter=5, history_size=4,
                     line_search_fn="strong_wolfe")
    ot = torch.optim.LBFGS([wt, bt], lr=0.8, max_iter=5, history_size=4,
                           line_search_fn="strong_wolfe")
    for _ in range(5):
        od.step(make_closure(od, lambda: logistic_loss(dg, wd, bd, data)))
        ot.step(make_closure(ot, lambda: logistic_loss(torch, wt, bt, data)))
        np.testing.assert_allclose(wd.detach().numpy(), wt.detach().numpy(), rtol=1e-3)
    assert wd.dtype == np.float32
    assert od.state[wd]["d"].dtype == np.float32
    assert od.state[wd]["H_diag"].dtype == np.float32
    np.testing.assert_allclose(wd.detach().numpy(), wt.detach().numpy(), rtol=1e-5)


def test_parameter_without_gradient_counts_as_zero() -> None:
    """A parameter the loss does not use keeps grad None: zeros in the flat gradient."""
    torch = torch_or_skip()
    x0, unused0 = np.array([-1.0, 1.5]), np.array([3.0, 4.0])
    xd, ud = dg.tensor(x0, requires_grad=True), dg.tensor(unused0, requires_grad=True)
    xt, ut = torch.tensor(x0, requires_grad=True), torch.tensor(unused0, requires_grad=True)
    od, ot = optim.LBFGS([xd, ud], max_iter=3), torch.optim.LBFGS([xt, ut], max_iter=3)
    od.step(make_closure(od, lambda: rosenbrock(xd)))
    ot.step(make_closure(ot, lambda: rosenbrock(xt)))
    np.testing.assert_allclose(xd.detach().numpy(), xt.detach().numpy(), rtol=RTOL)
    np.testing.assert_array_equal(ud.detach().numpy(), unused0)


def test_stops_at_once_when_the_gradient_is_below_tolerance() -> None:
    x = dg.tensor([1.0, 1.0], dtype="float64", requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure() -> dg.Tensor:
        calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 0.0 and len(calls) == 1
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 1.0])
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}


def test_closure_runs_with_grad_enabled_inside_no_grad() -> None:
    x = dg.tensor([-1.0, 1.5], dtype="float64", requires_grad=True)
    opt = optim.LBFGS([x], max_iter=2)
    modes = []

    def closure() -> dg.Tensor:
        modes.append(dg.is_grad_enabled())
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    with dg.no_grad():
        opt.step(closure)
        assert not dg.is_grad_enabled()
    assert modes and all(modes)


def _fresh(line_search_fn: str | None) -> tuple[dg.Tensor, Any]:
    x = dg.tensor([-1.5, 2.0, 0.5, -0.7], dtype="float64", requires_grad=True)
    return x, optim.LBFGS([x], max_iter=3, history_size=4, line_search_fn=line_search_fn)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_round_trip_resumes_exactly(line_search_fn: str | None,
                                               through_file: bool, tmp_path: Path) -> None:
    """Stop after 2 steps, restore into a new optimizer, step on: bit for bit the run that
    never stopped."""
    x_ref, opt_ref = _fresh(line_search_fn)
    for _ in range(4):
        opt_ref.step(make_closure(opt_ref, lambda: rosenbrock(x_ref)))

    x1, opt1 = _fresh(line_search_fn)
    for _ in range(2):
        opt1.step(make_closure(opt1, lambda: rosenbrock(x1)))
    saved = opt1.state_dict()
    assert set(saved["state"]) == {0}  # the global state lives on the first parameter
    if through_file:
        dg.save({"optimizer": saved, "x": x1.detach()}, tmp_path / "lbfgs.ckpt")
        ckpt = dg.load(tmp_path / "lbfgs.ckpt")
        saved, start = ckpt["optimizer"], ckpt["x"].numpy()
    else:
        start = x1.detach().numpy().copy()
    # the saved state is a copy: stepping the old optimizer does not change it
    opt1.step(make_closure(opt1, lambda: rosenbrock(x1)))

    x2 = dg.tensor(start, requires_grad=True)
    opt2 = optim.LBFGS([x2], line_search_fn=line_search_fn)  # hyperparameters come back too
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["max_iter"] == 3 and opt2.param_groups[0]["history_size"] == 4
    assert opt2.state[x2]["n_iter"] == saved["state"][0]["n_iter"]
    for _ in range(2):
        opt2.step(make_closure(opt2, lambda: rosenbrock(x2)))
    np.testing.assert_array_equal(x2.detach().numpy(), x_ref.detach().numpy())
    assert opt2.state[x2]["func_evals"] == opt_ref.state[x_ref]["func_evals"]


def test_load_state_dict_refuses_vectors_of_another_size() -> None:
    x, opt = _fresh(None)
    opt.step(make_closure(opt, lambda: rosenbrock(x)))
    y = dg.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
    other = optim.LBFGS([y])
    with pytest.raises(ValueError, match="4 numbers, but the parameters have 2"):
        other.load_state_dict(opt.state_dict())


def test_more_than_one_param_group_is_refused_as_torch() -> None:
    torch = torch_or_skip()
    a = dg.tensor([1.0], requires_grad=True)
    b = dg.tensor([2.0], requires_grad=True)
    message = "LBFGS doesn't support per-parameter options"
    with pytest.raises(ValueError, match=message):
        torch.optim.LBFGS([{"params": [torch.ones(1, requires_grad=True)]},
                           {"params": [torch.ones(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match=message):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = optim.LBFGS([a])
    with pytest.raises(ValueError, match=message):  # torch fails later, at step
        opt.add_param_group({"params": [b]})
    assert len(opt.param_groups) == 1


def test_closure_returning_no_loss_is_a_clear_error() -> None:
    x = dg.tensor([-1.0, 1.5], dtype="float64", requires_grad=True)
    opt = optim.LBFGS([x])

    def closure() -> None:
        opt.zero_grad()
        rosenbrock(x).backward()

    with pytest.raises(TypeError, match="closure returned None; it must return the loss"):
        opt.step(closure)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step()


@pytest.mark.parametrize("kwargs, match", [({"lr": -1.0}, "Invalid learning rate"),
                                           ({"line_search_fn": "armijo"}, "strong_wolfe"),
                                           ({"max_iter": 2.5}, "max_iter must be an int")])
def test_bad_hyperparameters(kwargs: dict[str, Any], match: str) -> None:
    x = dg.tensor([1.0], requires_grad=True)
    with pytest.raises((ValueError, TypeError), match=match):
        optim.LBFGS([x], **kwargs)


def test_defaults_are_torchs() -> None:
    torch = torch_or_skip()
    ours = optim.LBFGS([dg.tensor([1.0], requires_grad=True)]).param_groups[0]
    theirs = torch.optim.LBFGS([torch.ones(1, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in ours.items() if k != "params"} == \
        {k: v for k, v in theirs.items() if k != "params"}


def test_exported_like_the_others() -> None:
    assert "LBFGS" in optim.__all__ and issubclass(optim.LBFGS, optim.Optimizer)
