"""The fused batch-norm and layer-norm nodes: float64 gradcheck + float32 torch parity."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from deepgrad.ops.norm import batch_norm, layer_norm
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
TF = torch.nn.functional


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 4)])
def test_batch_norm_training(shape: tuple[int, ...]) -> None:
    c = shape[1]
    check_op(lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
             [shape, (c,), (c,)],
             lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True))


def test_batch_norm_without_affine() -> None:
    check_op(lambda x: batch_norm(x, None, None, training=True), [(5, 3, 2, 2)],
             lambda x: TF.batch_norm(x, None, None, training=True))


def test_batch_norm_eval_uses_running_stats() -> None:
    mean = np.array([0.5, -1.0, 0.0], np.float32)
    var = np.array([2.0, 0.5, 1.0], np.float32)
    check_op(lambda x, w, b, m, v: batch_norm(x, m, v, w, b, training=False, eps=1e-3),
             [(4, 3, 3, 3), (3,), (3,)],
             lambda x, w, b, m, v: TF.batch_norm(x, m, v, w, b, training=False, eps=1e-3),
             extra=(mean, var))


def test_batch_norm_updates_running_stats_like_torch() -> None:
    x = np.random.default_rng(0).standard_normal((8, 3, 2, 2)).astype(np.float32) * 2 + 1
    rm_d, rv_d = deepgrad.zeros(3), deepgrad.ones(3)
    rm_t, rv_t = torch.zeros(3), torch.ones(3)
    batch_norm(deepgrad.tensor(x), rm_d, rv_d, training=True, momentum=0.2)
    TF.batch_norm(torch.from_numpy(x), rm_t, rv_t, training=True, momentum=0.2)
    np.testing.assert_allclose(rm_d.data.numpy(), rm_t.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv_d.data.numpy(), rv_t.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_is_one_graph_node() -> None:
    x = deepgrad.randn(4, 3, requires_grad=True)
    w = deepgrad.ones(3, requires_grad=True)
    out = batch_norm(x, None, None, w, None, training=True)
    assert out.grad_fn.name() == "BatchNormBackward"
    parents = [node for node, _ in out.grad_fn.next_functions if node is not None]
    assert [node.variable for node in parents] == [x, w]


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
def test_layer_norm(shape: tuple[int, ...], normalized: tuple[int, ...]) -> None:
    check_op(lambda x, w, b: layer_norm(x, normalized, w, b), [shape, normalized, normalized],
             lambda x, w, b: TF.layer_norm(x, normalized, w, b))


def test_layer_norm_without_affine() -> None:
    check_op(lambda x: layer_norm(x, 5, eps=1e-3), [(3, 5)],
             lambda x: TF.layer_norm(x, (5,), eps=1e-3))


def test_norm_bad_inputs() -> None:
    with pytest.raises(RuntimeError, match=r"weight has shape \(4,\).*3 channels"):
        batch_norm(deepgrad.randn(2, 3), None, None, deepgrad.ones(4), training=True)
    with pytest.raises(TypeError, match="floating point"):
        batch_norm(deepgrad.tensor([[1, 2], [3, 4]]), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"normalized_shape \[4\].*\(2, 3\)"):
        layer_norm(deepgrad.randn(2, 3), 4)
