"""graph_trace.json's recorder: one batch forward and backward through a real model, every
node's output and arriving gradient against values computed independently, .grad left
alone, the backward order ending at the input, and vanishing gradients flagged."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad import autograd, nn
from deepgrad.lab.graph_trace import stats, trace_graph
from deepgrad.nn import functional as F
from deepgrad.tensor import Tensor


class Shrink(nn.Module):
    """Multiplies by a tiny constant: the gradient reaching what comes before shrinks too."""

    def forward(self, x: Tensor) -> Tensor:
        return x * 1e-4


def batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(6, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, 6)


def test_trace_records_outputs_and_gradients_of_every_node() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(72, 3))
    x, y = batch()
    trace = trace_graph(model, F.cross_entropy, x, y)
    nodes = {n["id"]: n for n in trace["nodes"]}
    kinds = sorted(n["kind"] for n in nodes.values())
    assert kinds == ["input", "loss", "op", "op", "op", "op", "param", "param", "param",
                     "param"]
    order = trace["order"]
    assert sorted(order) == sorted(nodes) and nodes[order[0]]["kind"] == "loss"
    assert nodes[order[-1]]["kind"] == "input"
    for n in nodes.values():
        assert n["grad"] is not None and n["out"] is not None, n["label"]
    # the same batch again, independently: outputs by forward hooks, gradients by autograd
    xt = Tensor(x, requires_grad=True)
    hidden = model[1](model[0](xt))
    logits = model[3](model[2](hidden))
    loss = F.cross_entropy(logits, Tensor(y.astype(np.int64), _copy=False))
    gx, gw = autograd.grad(loss, [xt, model[3].weight])
    assert trace["loss"] == pytest.approx(float(loss._array), rel=1e-6)
    by_label = {n["label"]: n for n in nodes.values()}
    assert by_label["ReLU"]["out"]["mean"] == pytest.approx(float(hidden._array.mean()),
                                                            rel=1e-5)
    assert by_label["ReLU"]["shape"] == [6, 2, 6, 6]
    assert by_label["input"]["grad"]["max"] == pytest.approx(float(gx._array.max()), rel=1e-5)
    assert by_label["3.weight"]["grad"]["std"] == pytest.approx(float(gw._array.std()),
                                                                rel=1e-5)
    assert by_label["3.weight"]["module"] == "3" and by_label["ReLU"]["module"] == "1"
    assert sum(by_label["Linear"]["out"]["counts"]) == 18  # 6 x 3 logits in the histogram
    assert all(p.grad is None for p in model.parameters())  # the trace touched no .grad
    assert not any(n["flag"] for n in nodes.values())


def test_vanishing_gradients_are_flagged() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 4), Shrink(), Shrink(), nn.Linear(4, 3))
    x, y = batch(1)
    trace = trace_graph(model, F.cross_entropy, x, y)
    flagged = {n["label"] for n in trace["nodes"] if n["flag"] == "vanishing"}
    assert {"1.weight", "1.bias", "input"} <= flagged
    # the last layer's bias sees the output gradient itself (its weight sees the shrunken
    # activations, so it is flagged too), and the loss is where backpropagation starts
    assert "4.bias" not in flagged
    assert [n["flag"] for n in trace["nodes"] if n["kind"] == "loss"] == [""]


def test_stats_of_an_array_with_nonfinite_values() -> None:
    s = stats(np.array([1.0, 2.0, np.inf, np.nan, 3.0]))
    assert s["nonfinite"] == 2 and s["mean"] == pytest.approx(2.0) and s["max"] == 3.0
    assert sum(s["counts"]) == 3 and len(s["edges"]) == len(s["counts"]) + 1
