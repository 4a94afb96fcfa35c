"""weight_norm and spectral_norm against torch: the same parameters and buffers, the same
outputs (power iteration in training, frozen in eval) and gradients; removal restores a
plain parameter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from helpers import torch_or_skip

torch = torch_or_skip()
pytestmark = pytest.mark.filterwarnings("ignore:.*weight_norm.*deprecated")


def _pair(make: Any, wrap: str, **kwargs: Any) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = getattr(torch.nn.utils, wrap)(make(torch.nn), **kwargs)
    ours = getattr(nn.utils, wrap)(make(nn), **kwargs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


CASES = [("linear", lambda m: m.Linear(4, 3), {}), ("linear_dim1", lambda m: m.Linear(4, 3),
                                                    {"dim": 1}),
         ("conv", lambda m: m.Conv2d(2, 3, 3), {}),
         ("conv_transpose", lambda m: m.ConvTranspose2d(3, 2, 3, stride=2), {})]


@pytest.mark.parametrize(("name", "make", "kwargs"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("wrap", ["weight_norm", "spectral_norm"])
def test_matches_torch(name: str, make: Any, kwargs: dict[str, Any], wrap: str) -> None:
    if wrap == "spectral_norm" and "dim" in kwargs:
        pytest.skip("spectral_norm's dim is the output dim, tested by the transposed conv")
    ours, theirs = _pair(make, wrap, **kwargs)
    shape = (2, 4) if "linear" in name else (2, 2, 5, 5) if name == "conv" else (2, 3, 4, 4)
    rng = np.random.default_rng(0)
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = rng.standard_normal(shape).astype(np.float32)
        xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yd, yt = ours(xd), theirs(xt)
        np.testing.assert_allclose(yd.detach().numpy(), yt.detach().numpy(), atol=1e-5,
                                   rtol=1e-4)
        (yd * yd).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), atol=1e-4, rtol=1e-3)
    theirs_params = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[key].grad.numpy(), atol=1e-4,
                                   rtol=1e-3, err_msg=key)
    for key, value in theirs.state_dict().items():  # the power iteration's buffers too
        np.testing.assert_allclose(np.asarray(ours.state_dict()[key]), value.numpy(),
                                   atol=1e-5, rtol=1e-4, err_msg=key)


@pytest.mark.parametrize("wrap", ["weight_norm", "spectral_norm"])
def test_remove_restores_a_plain_weight(wrap: str) -> None:
    layer = getattr(nn.utils, wrap)(nn.Linear(4, 3))
    x = deepgrad.randn(2, 4)
    layer.eval()
    before = layer(x).detach().numpy()
    getattr(nn.utils, "remove_" + wrap)(layer)
    assert sorted(n for n, _ in layer.named_parameters()) == ["bias", "weight"]
    np.testing.assert_allclose(layer(x).detach().numpy(), before, rtol=1e-5)
    with pytest.raises(ValueError, match="not found"):
        getattr(nn.utils, "remove_" + wrap)(layer)
