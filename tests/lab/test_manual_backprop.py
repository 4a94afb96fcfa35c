"""Report 004's hand-written backward pass equals deepgrad's autograd for the same weights."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import deepgrad
from deepgrad.lab import zoo
from deepgrad.nn import functional as F

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "manual_backprop.py"


@pytest.fixture(scope="module")
def mb():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("manual_backprop", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["manual_backprop"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def autograd_grads(mb, p, X, y, kind: str, reg: float) -> tuple[float, dict[str, np.ndarray]]:  # type: ignore[no-untyped-def]
    """The same loss built from the zoo's moons-net and deepgrad ops, differentiated by backward."""
    model = zoo.get_model("moons-net", hidden=p.W1.shape[1], activation=kind).double()
    model.fc1.weight.data[...] = p.W1.T  # Linear stores (out, in); the report's W1 is (in, out)
    model.fc1.bias.data[...] = p.b1
    model.fc2.weight.data[...] = p.W2.T
    model.fc2.bias.data[...] = p.b2
    out = model(deepgrad.tensor(X, dtype=deepgrad.float64))
    w1, w2 = model.fc1.weight, model.fc2.weight
    loss = F.cross_entropy(out, deepgrad.tensor(y)) + reg / 2 * ((w1 * w1).sum() + (w2 * w2).sum())
    loss.backward()
    grads = {
        "W1": model.fc1.weight.grad.data.numpy().T,
        "b1": model.fc1.bias.grad.data.numpy(),
        "W2": model.fc2.weight.grad.data.numpy().T,
        "b2": model.fc2.bias.grad.data.numpy(),
    }
    return float(loss.item()), grads


@pytest.mark.parametrize("kind", ["tanh", "sigmoid", "relu"])
def test_hand_written_gradients_equal_autograd(mb, kind: str) -> None:  # type: ignore[no-untyped-def]
    X, y = mb.moons(64, 0.2, seed=1)
    p = mb.init_params(2, 5, 2, seed=2)
    reg = 0.01
    manual = mb.backprop(p, X, y, kind, reg)
    loss, auto = autograd_grads(mb, p, X, y, kind, reg)
    assert loss == pytest.approx(mb.calculate_loss(p, X, y, kind, reg), rel=1e-12)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(getattr(manual, name), auto[name], rtol=1e-10, atol=1e-12)


def test_gradients_match_after_training_steps(mb) -> None:  # type: ignore[no-untyped-def]
    """Away from the init too: a few hundred hand-written descent steps, then compare again."""
    X, y = mb.moons(200, 0.2, seed=0)
    p = mb.fit(mb.init_params(2, 3, 2, seed=0), X, y, "tanh", epsilon=0.5, reg=1e-3, passes=300)
    manual = mb.backprop(p, X, y, "tanh", 1e-3)
    _, auto = autograd_grads(mb, p, X, y, "tanh", 1e-3)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(getattr(manual, name), auto[name], rtol=1e-9, atol=1e-12)
    assert (mb.predict(p, X, "tanh") == y).mean() > 0.8  # it has learned something


def test_example_runs_as_a_script(mb, capsys) -> None:  # type: ignore[no-untyped-def]
    acc = mb.main(["--passes", "2000", "--epsilon", "0.5", "--reg", "0.0001", "--samples", "300"])
    assert acc > 0.9
    assert "training accuracy" in capsys.readouterr().out
