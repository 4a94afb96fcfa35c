"""conv1d, conv_transpose1d/2d (``ops/conv_variants.py``), F.pad's modes and the layers
Conv1d, ConvTranspose1d/2d and Conv2d's padding_mode: float64 gradcheck and float32
forward/backward parity with torch; state_dict, init and repr as torch's."""

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

TRANSPOSED_2D = [{}, {"stride": 2}, {"stride": 2, "padding": 1},
                 {"stride": 2, "padding": 1, "output_padding": 1},
                 {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)},
                 {"dilation": 2, "padding": 1}, {"padding": 2},
                 {"stride": 3, "padding": 2, "dilation": 2, "output_padding": 2}]


@pytest.mark.parametrize("kwargs", TRANSPOSED_2D, ids=str)
def test_conv_transpose2d(kwargs: dict[str, Any]) -> None:
    check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
             [(2, 4, 5, 4), (4, 3, 3, 3), (3,)],
             lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs))


def test_conv_transpose2d_groups_and_unbatched() -> None:
    check_op(lambda x, w: F.conv_transpose2d(x, w, groups=2, stride=2),
             [(2, 4, 3, 3), (4, 3, 2, 2)],
             lambda x, w: TF.conv_transpose2d(x, w, groups=2, stride=2))
    check_op(lambda x, w: F.conv_transpose2d(x, w, stride=2), [(4, 3, 3), (4, 3, 2, 2)],
             lambda x, w: TF.conv_transpose2d(x, w, stride=2))


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1},
                                    {"dilation": 2, "padding": "same"}, {"groups": 2},
                                    {"padding": "valid", "stride": 3}], ids=str)
def test_conv1d(kwargs: dict[str, Any]) -> None:
    check_op(lambda x, w, b: F.conv1d(x, w, b, **kwargs),
             [(2, 4, 9), (6, 4 // kwargs.get("groups", 1), 3), (6,)],
             lambda x, w, b: TF.conv1d(x, w, b, **kwargs))
    check_op(lambda x, w: F.conv1d(x, w), [(4, 9), (6, 4, 3)], lambda x, w: TF.conv1d(x, w))


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1},
                                    {"dilation": 2}], ids=str)
def test_conv_transpose1d(kwargs: dict[str, Any]) -> None:
    check_op(lambda x, w, b: F.conv_transpose1d(x, w, b, **kwargs),
             [(2, 4, 6), (4, 3, 3), (3,)],
             lambda x, w, b: TF.conv_transpose1d(x, w, b, **kwargs))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(1, 2), (2, 1, 1, 3), (3, 3, 2, 2)], ids=str)
def test_pad_modes(mode: str, widths: tuple[int, ...]) -> None:
    shape = (2, 3, 5) if len(widths) == 2 else (2, 3, 4, 5)
    check_op(lambda x: F.pad(x, widths, mode=mode), [shape],
             lambda x: TF.pad(x, widths, mode=mode))


def test_pad_crops_with_negative_widths_and_checks_modes() -> None:
    check_op(lambda x: F.pad(x, (-1, 2, 1, -2), value=3.0), [(2, 4, 5)],
             lambda x: TF.pad(x, (-1, 2, 1, -2), value=3.0))
    with pytest.raises(RuntimeError, match="padding size should be less than"):
        F.pad(deepgrad.zeros(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="choose one of constant, reflect"):
        F.pad(deepgrad.zeros(1, 2, 3), (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(deepgrad.zeros(1, 2, 3), (1, 1), mode="replicate", value=2.0)


LAYERS = [
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1}, (2, 4, 9)),
    ("Conv1d", (4, 6, 3), {"padding": "same", "padding_mode": "reflect"}, (2, 4, 9)),
    ("Conv2d", (3, 5, 3), {"padding": 1, "padding_mode": "circular"}, (2, 3, 6, 6)),
    ("Conv2d", (3, 5, 3), {"padding": (2, 1), "padding_mode": "replicate"}, (2, 3, 6, 6)),
    ("ConvTranspose2d", (4, 3, 4), {"stride": 2, "padding": 1}, (2, 4, 5, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "groups": 2, "bias": False}, (4, 3, 3)),
    ("ConvTranspose1d", (4, 3, 5), {"stride": 3, "output_padding": 1}, (2, 4, 7)),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), LAYERS, ids=str)
def test_layers_match_torch(name: str, args: tuple[int, ...], kwargs: dict[str, Any],
                            shape: tuple[int, ...]) -> None:
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    bound = 1 / np.sqrt(ours.weight.shape[1] * np.prod(ours.kernel_size))
    assert 0.5 * bound < float(ours.weight.abs().max()) <= bound  # torch's kaiming_uniform(a=√5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yd, yt = ours(xd), theirs(xt)
    np.testing.assert_allclose(yd.detach().numpy(), yt.detach().numpy(), atol=1e-5, rtol=1e-4)
    (yd * yd).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), atol=1e-4, rtol=1e-3)
    theirs_params = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[key].grad.numpy(), atol=1e-4,
                                   rtol=1e-3, err_msg=key)


def test_transposed_output_size_and_errors() -> None:
    ours, theirs = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(
        3, 2, 3, stride=2, padding=1)
    x = np.zeros((1, 3, 4, 4), np.float32)
    for size in ([7, 7], [8, 8], [1, 2, 8, 7]):
        assert tuple(ours(deepgrad.tensor(x), output_size=size).shape) == tuple(
            theirs(torch.tensor(x), output_size=size).shape)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(deepgrad.tensor(x), output_size=[9, 9])
    with pytest.raises(ValueError, match="output padding must be smaller than either stride "
                                         "or dilation"):
        F.conv_transpose2d(deepgrad.zeros(1, 2, 3, 3), deepgrad.zeros(2, 2, 3, 3),
                           output_padding=1)
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros'"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 2, L\)"):
        nn.Conv1d(2, 3, 3)(deepgrad.zeros(1, 4, 5))


FOLDS = [{"kernel_size": 3}, {"kernel_size": (2, 3), "stride": 2, "padding": 1},
         {"kernel_size": 2, "dilation": 2, "stride": (1, 2)},
         {"kernel_size": 3, "padding": 2, "stride": 3}]


@pytest.mark.parametrize("kwargs", FOLDS, ids=str)
def test_unfold_and_fold(kwargs: dict[str, Any]) -> None:
    """im2col and col2im, as the lectures write them with F.unfold / F.fold."""
    check_op(lambda x: F.unfold(x, **kwargs), [(2, 3, 7, 6)],
             lambda x: TF.unfold(x, **kwargs))
    blocks = TF.unfold(torch.zeros(2, 3, 7, 6), **kwargs).shape
    check_op(lambda c: F.fold(c, (7, 6), **kwargs), [tuple(blocks)],
             lambda c: TF.fold(c, (7, 6), **kwargs))
    ours, theirs = nn.Unfold(**kwargs), torch.nn.Unfold(**kwargs)
    assert repr(ours) == repr(theirs)
    assert repr(nn.Fold((7, 6), **kwargs)) == repr(torch.nn.Fold((7, 6), **kwargs))


def test_fold_checks_the_block_count() -> None:
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks 5 \\* 4 = 20"):
        F.fold(deepgrad.zeros(1, 27, 19), (7, 6), 3)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(deepgrad.zeros(1, 26, 20), (7, 6), 3)


def test_rms_norm() -> None:
    check_op(lambda x, w: F.rms_norm(x, (4,), w), [(3, 5, 4), (4,)],
             lambda x, w: TF.rms_norm(x, (4,), w))
    check_op(lambda x: F.rms_norm(x, (5, 4), eps=1e-3), [(3, 5, 4)],
             lambda x: TF.rms_norm(x, (5, 4), eps=1e-3))
    ours, theirs = nn.RMSNorm(4), torch.nn.RMSNorm(4)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(deepgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)
