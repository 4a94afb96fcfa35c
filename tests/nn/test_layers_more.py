"""Interpolation, pixel shuffle, 1-D pooling, group and instance norm, 1-D dropout, padding
layers and the parameter containers, against torch: float64 gradcheck and float32 parity
of the functions, state_dict/repr/outputs/gradients of the layers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
TF = torch.nn.functional
RNG = np.random.default_rng(0)

INTERPOLATIONS = [
    ((2, 3, 4, 5), {"scale_factor": 2}), ((2, 3, 4, 5), {"size": (7, 3)}),
    ((2, 3, 4, 5), {"scale_factor": 1.7, "mode": "nearest-exact"}),
    ((2, 3, 4, 5), {"size": (9, 6), "mode": "bilinear"}),
    ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ((2, 3, 6, 6), {"size": (3, 4), "mode": "bilinear"}),
    ((2, 3, 6, 6), {"scale_factor": 0.5, "mode": "bilinear"}),
    ((2, 3, 7), {"scale_factor": 3, "mode": "linear"}),
    ((2, 3, 7), {"size": 4}),
]


@pytest.mark.parametrize(("shape", "kwargs"), INTERPOLATIONS, ids=str)
def test_interpolate(shape: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    check_op(lambda x: F.interpolate(x, **kwargs), [shape],
             lambda x: TF.interpolate(x, **kwargs))


def test_pixel_shuffle_and_1d_pooling() -> None:
    check_op(lambda x: F.pixel_shuffle(x, 2), [(2, 8, 3, 4)], lambda x: TF.pixel_shuffle(x, 2))
    check_op(lambda x: F.pixel_unshuffle(x, 2), [(2, 2, 4, 6)],
             lambda x: TF.pixel_unshuffle(x, 2))
    check_op(lambda x: F.max_pool1d(x, 3, 2, 1), [(2, 3, 9)], lambda x: TF.max_pool1d(x, 3, 2, 1))
    check_op(lambda x: F.avg_pool1d(x, 3, 2, 1), [(2, 3, 9)], lambda x: TF.avg_pool1d(x, 3, 2, 1))
    check_op(lambda x: F.adaptive_avg_pool1d(x, 4), [(2, 3, 9)],
             lambda x: TF.adaptive_avg_pool1d(x, 4))
    check_op(lambda x: F.adaptive_max_pool1d(x, 4), [(3, 9)],
             lambda x: TF.adaptive_max_pool1d(x, 4))
    x = RNG.standard_normal((2, 3, 9)).astype(np.float32)
    _, ours = F.max_pool1d(deepgrad.tensor(x), 3, return_indices=True)
    _, theirs = TF.max_pool1d(torch.tensor(x), 3, return_indices=True)
    assert ours.tolist() == theirs.tolist()


def test_group_and_instance_norm() -> None:
    check_op(lambda x, w, b: F.group_norm(x, 2, w, b), [(3, 4, 5, 2), (4,), (4,)],
             lambda x, w, b: TF.group_norm(x, 2, w, b))
    check_op(lambda x: F.group_norm(x, 1), [(3, 6, 5)], lambda x: TF.group_norm(x, 1))
    check_op(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [(3, 4, 5, 2), (4,), (4,)],
             lambda x, w, b: TF.instance_norm(x, weight=w, bias=b))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(deepgrad.zeros(2, 6, 3), 4)


NORMS = [("GroupNorm", (2, 4), {}, (3, 4, 5, 2)), ("GroupNorm", (4, 4), {"affine": False},
                                                    (3, 4, 6)),
         ("InstanceNorm2d", (4,), {}, (3, 4, 5, 2)),
         ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}, (3, 4, 5, 2)),
         ("InstanceNorm1d", (4,), {"track_running_stats": True}, (3, 4, 6))]


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), NORMS, ids=str)
def test_norm_layers_train_and_eval_as_torch(name: str, args: tuple[int, ...],
                                             kwargs: dict[str, Any],
                                             shape: tuple[int, ...]) -> None:
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(3):
        x = RNG.standard_normal(shape).astype(np.float32) * 2 + step
        xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yd, yt = ours(xd), theirs(xt)
        np.testing.assert_allclose(yd.detach().numpy(), yt.detach().numpy(), atol=1e-5,
                                   rtol=1e-4)
        (yd ** 3).sum().backward()
        (yt ** 3).sum().backward()
        np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), atol=1e-3, rtol=1e-3)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(np.asarray(ours.state_dict()[key]), value.numpy(),
                                   atol=1e-5, rtol=1e-4, err_msg=key)
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(deepgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4)


LAYERS = [("Upsample", (), {"scale_factor": 2, "mode": "nearest"}, (2, 3, 4, 4)),
          ("Upsample", (), {"size": (5, 7), "mode": "bilinear"}, (2, 3, 4, 4)),
          ("UpsamplingBilinear2d", (), {"scale_factor": 2}, (2, 3, 4, 4)),
          ("UpsamplingNearest2d", (), {"size": 6}, (2, 3, 4, 4)),
          ("PixelShuffle", (2,), {}, (2, 8, 3, 3)), ("PixelUnshuffle", (2,), {}, (2, 2, 4, 4)),
          ("MaxPool1d", (3,), {"stride": 2}, (2, 3, 9)), ("AvgPool1d", (2,), {}, (2, 3, 9)),
          ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 9)), ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 9)),
          ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
          ("ZeroPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 4)),
          ("ConstantPad1d", (2, 3.5), {}, (2, 3, 4)),
          ("ConstantPad2d", ((1, 0, 2, 1), -1.0), {}, (2, 3, 4, 4)),
          ("ReflectionPad1d", (2,), {}, (2, 3, 4)), ("ReflectionPad2d", (1,), {}, (2, 3, 4, 4)),
          ("ReplicationPad1d", ((1, 3),), {}, (2, 3, 4)),
          ("ReplicationPad2d", (2,), {}, (2, 3, 4, 4)),
          ("CircularPad1d", (2,), {}, (2, 3, 4)), ("CircularPad2d", ((1, 2, 2, 1),), {},
                                                   (2, 3, 4, 4))]


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), LAYERS, ids=str)
def test_layers_match_torch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                            shape: tuple[int, ...]) -> None:
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    x = RNG.standard_normal(shape).astype(np.float32)
    xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yd, yt = ours(xd), theirs(xt)
    np.testing.assert_allclose(yd.detach().numpy(), yt.detach().numpy(), atol=1e-6, rtol=1e-5)
    (yd * yd).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), atol=1e-5, rtol=1e-5)


def test_dropout1d_drops_whole_channels() -> None:
    deepgrad.manual_seed(0)
    out = nn.Dropout1d(0.5)(deepgrad.ones(8, 16, 5))
    per_channel = out.numpy().reshape(8 * 16, 5)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert all(len(set(row)) == 1 for row in per_channel.tolist())  # all or nothing per channel
    assert 0.3 < (per_channel[:, 0] == 0).mean() < 0.7
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(deepgrad.zeros(2, 3, 4, 5))


def test_parameter_containers_register_their_parameters() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ParameterList([nn.Parameter(deepgrad.ones(2, 3)), deepgrad.zeros(4)])
            self.extra = nn.ParameterDict({"scale": deepgrad.ones(1)})

        def forward(self, x: Any) -> Any:
            return x @ self.layers[0] * self.extra["scale"]

    model = Model()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0", "layers.1", "extra.scale"]
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    model(deepgrad.ones(5, 2)).sum().backward()
    assert model.layers[0].grad.tolist() == [[5.0] * 3] * 2
    model.layers.append(deepgrad.zeros(1))
    model.extra["bias"] = deepgrad.zeros(2)
    assert len(model.layers) == 3 and "bias" in model.extra and len(model.extra) == 2
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3))])
    assert repr(nn.ParameterList([nn.Parameter(deepgrad.ones(2, 3))])) == repr(theirs).replace(
        "torch.", "deepgrad.")
    state = model.state_dict()
    assert list(state) == ["layers.0", "layers.1", "layers.2", "extra.scale", "extra.bias"]
