"""Every layer against its PyTorch twin: same weights in, same outputs and gradients out.

``compare`` builds both layers, copies torch's state into deepgrad through
``load_state_dict``, runs forward and backward on the same input, and checks
the output, the input gradient and every parameter gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from helpers import torch_or_skip

torch = torch_or_skip()
RTOL, ATOL = 1e-4, 1e-5


def compare(make: Callable[[Any], Any], shape: tuple[int, ...], *, train: bool = True,
            ints: int | None = None, seed: int = 0) -> tuple[Any, Any]:
    """``make(nn_module_namespace)`` builds the layer on either side."""
    theirs = make(torch.nn)
    ours = make(nn)
    ours.load_state_dict(theirs.state_dict())
    theirs.train(train)
    ours.train(train)
    rng = np.random.default_rng(seed)
    if ints is not None:
        x = rng.integers(0, ints, size=shape)
        xt, xd = torch.from_numpy(x), deepgrad.tensor(x)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
        xt = torch.tensor(x, requires_grad=True)
        xd = deepgrad.tensor(x, requires_grad=True)
    out_t, out_d = theirs(xt), ours(xd)
    assert tuple(out_d.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_d.data.numpy(), out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    if out_t.requires_grad:
        w = rng.standard_normal(out_t.shape).astype(np.float32)
        out_t.backward(torch.from_numpy(w))
        out_d.backward(deepgrad.tensor(w))
        if ints is None:
            np.testing.assert_allclose(xd.grad.data.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(),
                                     strict=True):
            np.testing.assert_allclose(p.grad.data.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-4,
                                       err_msg=f"gradient of {name}")
    for key, value in theirs.state_dict().items():  # running stats moved the same way
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=key)
    return ours, theirs


LAYERS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...]]] = {
    "linear": (lambda n: n.Linear(5, 3), (4, 5)),
    "linear_3d_no_bias": (lambda n: n.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv2d": (lambda n: n.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
    "conv2d_groups_dilation": (lambda n: n.Conv2d(4, 6, 3, dilation=2, groups=2), (2, 4, 8, 8)),
    "conv2d_same": (lambda n: n.Conv2d(2, 3, (3, 5), padding="same"), (1, 2, 6, 6)),
    "conv2d_unbatched": (lambda n: n.Conv2d(2, 3, 3), (2, 5, 5)),
    "maxpool": (lambda n: n.MaxPool2d(2), (2, 3, 6, 6)),
    "maxpool_overlap": (lambda n: n.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    "avgpool": (lambda n: n.AvgPool2d(2, 2), (2, 3, 6, 6)),
    "avgpool_pad": (lambda n: n.AvgPool2d(3, 2, 1, count_include_pad=False), (1, 2, 7, 7)),
    "adaptive_avgpool": (lambda n: n.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
    "flatten": (lambda n: n.Flatten(), (2, 3, 4, 5)),
    "unflatten": (lambda n: n.Unflatten(1, (2, 6)), (3, 12)),
    "identity": (lambda n: n.Identity(), (3, 4)),
    "batchnorm1d": (lambda n: n.BatchNorm1d(5), (8, 5)),
    "batchnorm1d_3d": (lambda n: n.BatchNorm1d(3, momentum=0.3), (4, 3, 6)),
    "batchnorm2d": (lambda n: n.BatchNorm2d(3), (4, 3, 5, 5)),
    "batchnorm2d_no_affine": (lambda n: n.BatchNorm2d(3, affine=False), (4, 3, 5, 5)),
    "batchnorm2d_no_tracking": (lambda n: n.BatchNorm2d(3, track_running_stats=False),
                                (4, 3, 5, 5)),
    "batchnorm2d_no_bias": (lambda n: n.BatchNorm2d(3, bias=False), (4, 3, 5, 5)),
    "batchnorm1d_cumulative": (lambda n: n.BatchNorm1d(4, momentum=None), (6, 4)),
    "layernorm": (lambda n: n.LayerNorm(6), (3, 6)),
    "layernorm_no_bias": (lambda n: n.LayerNorm(6, bias=False), (3, 6)),
    "layernorm_2d_shape": (lambda n: n.LayerNorm((4, 5)), (2, 3, 4, 5)),
    "layernorm_no_affine": (lambda n: n.LayerNorm(6, elementwise_affine=False), (3, 6)),
    "relu": (lambda n: n.ReLU(), (3, 7)),
    "leaky_relu": (lambda n: n.LeakyReLU(0.2), (3, 7)),
    "elu": (lambda n: n.ELU(alpha=0.5), (3, 7)),
    "selu": (lambda n: n.SELU(), (3, 7)),
    "gelu": (lambda n: n.GELU(), (3, 7)),
    "gelu_tanh": (lambda n: n.GELU(approximate="tanh"), (3, 7)),
    "sigmoid": (lambda n: n.Sigmoid(), (3, 7)),
    "tanh": (lambda n: n.Tanh(), (3, 7)),
    "softmax": (lambda n: n.Softmax(dim=1), (3, 7)),
    "log_softmax": (lambda n: n.LogSoftmax(dim=-1), (2, 3, 7)),
    "softplus": (lambda n: n.Softplus(beta=2.0, threshold=5.0), (3, 7)),
    "hardtanh": (lambda n: n.Hardtanh(-0.5, 0.5), (3, 7)),
    "relu6": (lambda n: n.ReLU6(), (3, 7)),
    "sequential": (lambda n: n.Sequential(n.Conv2d(2, 3, 3), n.BatchNorm2d(3), n.ReLU(),
                                          n.MaxPool2d(2), n.Flatten(), n.Linear(12, 4)),
                   (2, 2, 6, 6)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch_in_training(name: str) -> None:
    make, shape = LAYERS[name]
    compare(make, shape, train=True)


@pytest.mark.parametrize("name", ["batchnorm1d", "batchnorm2d", "batchnorm2d_no_tracking",
                                  "sequential", "layernorm"])
def test_layer_matches_torch_in_eval(name: str) -> None:
    make, shape = LAYERS[name]
    compare(make, shape, train=False)


def test_embedding_matches_torch() -> None:
    ours, _ = compare(lambda n: n.Embedding(10, 4, padding_idx=0), (3, 5), ints=10)
    assert not ours.weight.grad.data.numpy()[0].any()
    assert not ours.weight.data.numpy()[0].any()


def test_batchnorm_running_stats_over_steps_then_eval() -> None:
    """Train several steps (running stats with unbiased variance), then eval: same as torch."""
    rng = np.random.default_rng(3)
    for momentum in (0.1, None):
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
        ours = nn.BatchNorm2d(3, momentum=momentum)
        for _ in range(4):
            x = (rng.standard_normal((5, 3, 4, 4)) * 3 + 1).astype(np.float32)
            theirs(torch.from_numpy(x))
            ours(deepgrad.tensor(x))
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, key).data.numpy(), getattr(theirs,
                                                                                key).numpy(),
                                       rtol=1e-5, atol=1e-6)
        assert int(ours.num_batches_tracked.item()) == 4
        ours.eval()
        theirs.eval()
        x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
        np.testing.assert_allclose(ours(deepgrad.tensor(x)).data.numpy(),
                                   theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_batchnorm_eval_does_not_touch_running_stats() -> None:
    bn = nn.BatchNorm1d(4).eval()
    bn(deepgrad.randn(6, 4) * 5)
    assert not bn.running_mean.data.numpy().any() and (bn.running_var.data.numpy() == 1).all()
    assert int(bn.num_batches_tracked.item()) == 0


def test_batchnorm_bad_input_names_layer_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3.*expected 4D input.*\(2, 3\)"):
        nn.BatchNorm2d(3)(deepgrad.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected 3 channels.*\(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(deepgrad.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(deepgrad.randn(1, 3))


def test_conv_bad_input_names_layer_and_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"Conv2d\(1, 32.*\(N, 1, H, W\).*\(2, 3, 28, 28\)"):
        nn.Conv2d(1, 32, 5)(deepgrad.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_layernorm_bad_input() -> None:
    with pytest.raises(RuntimeError, match=r"LayerNorm.*\(4, 5\).*\(2, 5, 4\)"):
        nn.LayerNorm((4, 5))(deepgrad.randn(2, 5, 4))


def test_dropout_statistics_and_eval_identity() -> None:
    layer = nn.Dropout(0.3)
    x = deepgrad.ones(200, 500)
    y = layer(x).data.numpy()
    assert abs((y == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout2d_zeroes_whole_channels() -> None:
    y = nn.Dropout2d(0.5)(deepgrad.ones(8, 16, 3, 3)).data.numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel != 0).all(-1)).all()


def test_dropout_is_reproducible_under_manual_seed() -> None:
    deepgrad.manual_seed(7)
    a = nn.Dropout()(deepgrad.ones(50)).data.numpy()
    deepgrad.manual_seed(7)
    b = nn.Dropout()(deepgrad.ones(50)).data.numpy()
    np.testing.assert_array_equal(a, b)


def test_softmax_implicit_dim_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(deepgrad.randn(2, 3))
    np.testing.assert_allclose(out.data.numpy().sum(1), 1, rtol=1e-6)


LOSSES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "cross_entropy": (lambda n: n.CrossEntropyLoss(), "class"),
    "cross_entropy_sum_smoothing": (lambda n: n.CrossEntropyLoss(reduction="sum",
                                                                 label_smoothing=0.1), "class"),
    "cross_entropy_ignore": (lambda n: n.CrossEntropyLoss(ignore_index=2), "class"),
    "nll": (lambda n: n.NLLLoss(reduction="none"), "logprob"),
    "mse": (lambda n: n.MSELoss(), "real"),
    "l1": (lambda n: n.L1Loss(reduction="sum"), "real"),
    "smooth_l1": (lambda n: n.SmoothL1Loss(beta=0.5), "real"),
    "bce": (lambda n: n.BCELoss(), "prob"),
    "bce_logits": (lambda n: n.BCEWithLogitsLoss(), "binary"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name: str) -> None:
    make, kind = LOSSES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    if kind in ("class", "logprob"):
        target = rng.integers(0, 4, size=6)
        if kind == "logprob":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
    elif kind == "prob":
        x = 1 / (1 + np.exp(-x))
        target = rng.random((6, 4)).astype(np.float32)
    elif kind == "binary":
        target = (rng.random((6, 4)) > 0.5).astype(np.float32)
    else:
        target = rng.standard_normal((6, 4)).astype(np.float32)
    xt, xd = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
    out_t = make(torch.nn)(xt, torch.from_numpy(target))
    out_d = make(nn)(xd, deepgrad.tensor(target))
    np.testing.assert_allclose(out_d.data.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    out_t.sum().backward()
    out_d.sum().backward()
    np.testing.assert_allclose(xd.grad.data.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_weighted_losses_keep_weight_as_buffer() -> None:
    w = np.array([1.0, 2.0, 0.5, 1.0], np.float32)
    pos = np.array([2.0, 1.0, 1.0, 3.0], np.float32)
    ce = nn.CrossEntropyLoss(weight=deepgrad.tensor(w))
    assert list(ce.state_dict()) == list(torch.nn.CrossEntropyLoss(torch.from_numpy(w))
                                         .state_dict()) == ["weight"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    t = rng.integers(0, 4, 5)
    expected = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w))(torch.from_numpy(x),
                                                                      torch.from_numpy(t))
    np.testing.assert_allclose(ce(deepgrad.tensor(x), deepgrad.tensor(t)).item(),
                               expected.item(), rtol=1e-5)
    y = (rng.random((5, 4)) > 0.5).astype(np.float32)
    bce = nn.BCEWithLogitsLoss(pos_weight=deepgrad.tensor(pos))
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pos))(
        torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(bce(deepgrad.tensor(x), deepgrad.tensor(y)).item(),
                               expected.item(), rtol=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("make, shape", [
    (lambda n: n.Linear(300, 200), (200, 300)),
    (lambda n: n.Conv2d(16, 32, 3), (32, 16, 3, 3)),
    (lambda n: n.Embedding(1000, 64), (1000, 64)),
])
def test_fresh_layers_are_statistically_torchs(make: Callable[[Any], Any],
                                               shape: tuple[int, ...]) -> None:
    """reset_parameters uses torch's defaults: same bounds, same spread."""
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(),
                                 strict=True):
        a, b = p.data.numpy(), q.detach().numpy()
        assert a.shape == b.shape and a.dtype == b.dtype == np.float32
        if a.size < 1000:  # a bias: U(+-1/sqrt(fan_in)) with the weight's fan_in
            fan_in = int(np.prod(ours.weight.shape[1:]))
            assert np.abs(a).max() <= 1 / math.sqrt(fan_in)
            assert np.abs(b).max() <= 1 / math.sqrt(fan_in)
            continue
        assert abs(a.std() - b.std()) < 0.05 * b.std(), name
        qa, qb = np.quantile(a, [0.02, 0.98]), np.quantile(b, [0.02, 0.98])
        assert np.abs(qa - qb).max() < 0.1 * b.std(), name
        assert abs(a.mean()) < 5 * b.std() / math.sqrt(a.size), name


def test_linear_parameters_follow_manual_seed() -> None:
    deepgrad.manual_seed(11)
    a = nn.Linear(4, 3).weight.data.numpy().copy()
    deepgrad.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.data.numpy(), a)


def test_sequential_indexing_and_containers() -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    assert head(deepgrad.randn(4, 2)).shape == (4, 3)
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 3 and [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]

    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert [n for n, _ in layers.named_parameters()][-1] == "3.bias"
    heads = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Linear(2, 3)})
    heads["c"] = nn.Identity()
    assert list(heads.keys()) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                         "b.bias"]

    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = layers

        def forward(self, x: deepgrad.Tensor) -> deepgrad.Tensor:
            for block in self.blocks:
                x = block(x)
            return x

    assert Tower()(deepgrad.randn(5, 2)).shape == (5, 1)
