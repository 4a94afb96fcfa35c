"""torch's less common activations, distances and KL divergence (``ops/composite.py``):
float64 gradcheck and float32 forward/backward parity with torch, the modules that wrap
them, their in-place forms and their errors."""

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

UNARY = ["silu", "mish", "logsigmoid", "softsign", "hardsigmoid", "hardswish", "hardshrink",
         "softshrink", "tanhshrink", "celu"]


@pytest.mark.parametrize("name", UNARY)
def test_unary(name: str) -> None:
    check_op(getattr(F, name), [(3, 7)], getattr(TF, name), low=-4, high=4)


@pytest.mark.parametrize("case", ["softmin", "threshold", "glu", "celu_alpha", "softshrink_1",
                                  "rrelu_eval"])
def test_with_arguments(case: str) -> None:
    fns: dict[str, tuple[Any, Any, tuple[int, ...]]] = {
        "softmin": (lambda f: lambda x: f.softmin(x, 1), None, (3, 5)),
        "threshold": (lambda f: lambda x: f.threshold(x, 0.3, -2.0), None, (3, 5)),
        "glu": (lambda f: lambda x: f.glu(x, 1), None, (3, 6)),
        "celu_alpha": (lambda f: lambda x: f.celu(x, 0.5), None, (3, 5)),
        "softshrink_1": (lambda f: lambda x: f.softshrink(x, 1.0), None, (3, 5)),
        "rrelu_eval": (lambda f: lambda x: f.rrelu(x, 0.1, 0.3), None, (3, 5)),
    }
    make, _, shape = fns[case]
    check_op(make(F), [shape], make(TF), low=-3, high=3)


def test_prelu_per_channel_and_shared() -> None:
    check_op(F.prelu, [(2, 3, 4), np.array([0.1, 0.2, -0.3])], TF.prelu)
    check_op(F.prelu, [(2, 3), np.array([0.25])], TF.prelu)
    with pytest.raises(RuntimeError, match="2 slopes for 3 channels"):
        F.prelu(deepgrad.zeros(2, 3), deepgrad.zeros(2))


def test_distances() -> None:
    check_op(lambda a, b: F.normalize(a, dim=1), [(3, 4), (1,)],
             lambda a, b: TF.normalize(a, dim=1))
    check_op(lambda a: F.normalize(a, p=1.0, dim=0), [(3, 4)],
             lambda a: TF.normalize(a, p=1.0, dim=0))
    check_op(F.cosine_similarity, [(3, 4), (3, 4)], TF.cosine_similarity)
    check_op(lambda a, b: F.cosine_similarity(a, b, dim=-1), [(3, 4), (4,)],
             lambda a, b: TF.cosine_similarity(a, b, dim=-1))
    check_op(F.pairwise_distance, [(3, 4), (3, 4)], TF.pairwise_distance)
    check_op(lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True), [(3, 4), (3, 4)],
             lambda a, b: TF.pairwise_distance(a, b, p=1.0, keepdim=True))
    zero = np.zeros((1, 3))  # the eps floor: a zero vector is similar to nothing, not NaN
    got = F.cosine_similarity(deepgrad.tensor(zero), deepgrad.ones(1, 3))
    assert got.tolist() == TF.cosine_similarity(torch.tensor(zero), torch.ones(1, 3,
                                                dtype=torch.float64)).tolist() == [0.0]


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
def test_kl_div(reduction: str) -> None:
    target = RNG.dirichlet(np.ones(4), 3)
    with pytest.warns(UserWarning, match="batchmean") if reduction == "mean" else _no_warning():
        check_op(lambda a, b: F.kl_div(F.log_softmax(a, 1), b, reduction=reduction),
                 [(3, 4), target], lambda a, b: TF.kl_div(TF.log_softmax(a, 1), b,
                                                          reduction=reduction))
        target[0, 1] = 0.0  # 0 * log 0 counts 0 (the target's own gradient is undefined there)
        check_op(lambda a, b: F.kl_div(F.log_softmax(a, 1), b, reduction=reduction),
                 [(3, 4), target], lambda a, b: TF.kl_div(TF.log_softmax(a, 1), b,
                                                          reduction=reduction), grad=False)
    check_op(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True)
             if reduction != "mean" else F.kl_div(a, b, reduction="sum", log_target=True),
             [(3, 4), (3, 4)],
             lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=True)
             if reduction != "mean" else TF.kl_div(a, b, reduction="sum", log_target=True))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(deepgrad.zeros(2), deepgrad.zeros(2), reduction="avg")


class _no_warning:  # noqa: N801 - a context manager used like pytest.warns
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


MODULES = [("SiLU", ()), ("Mish", ()), ("Hardsigmoid", ()), ("Hardswish", ()),
           ("LogSigmoid", ()), ("Softsign", ()), ("Tanhshrink", ()), ("Hardshrink", (0.3,)),
           ("Softshrink", (0.3,)), ("Threshold", (0.1, 20.0)), ("CELU", (0.7,)), ("GLU", (1,)),
           ("Softmin", (1,)), ("Softmax2d", ()), ("PReLU", (3,)), ("RReLU", ())]


@pytest.mark.parametrize(("name", "args"), MODULES)
def test_modules_match_torch(name: str, args: tuple[Any, ...]) -> None:
    x = RNG.uniform(-3, 3, (2, 4 if name == "GLU" else 3, 3, 2)).astype(np.float32)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(deepgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-6, rtol=1e-5)
    assert repr(ours) == repr(theirs)


def test_prelu_learns_its_slope_as_torch() -> None:
    ours, theirs = nn.PReLU(), torch.nn.PReLU()
    x = RNG.uniform(-2, 2, (4, 3)).astype(np.float32)
    ours(deepgrad.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    assert [n for n, _ in ours.named_parameters()] == ["weight"]


def test_losses_and_distance_modules() -> None:
    a, b = RNG.standard_normal((5, 4)).astype(np.float32), RNG.standard_normal((5, 4))
    b = b.astype(np.float32)
    pairs = [(nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5)),
             (nn.KLDivLoss(reduction="batchmean", log_target=True),
              torch.nn.KLDivLoss(reduction="batchmean", log_target=True)),
             (nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1)),
             (nn.PairwiseDistance(p=3.0), torch.nn.PairwiseDistance(p=3.0))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(deepgrad.tensor(a), deepgrad.tensor(b)).detach().numpy(),
                                   theirs(torch.tensor(a), torch.tensor(b)).numpy(),
                                   atol=1e-6, rtol=1e-5, err_msg=type(ours).__name__)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "selu_", "hardtanh_",
                                  "celu_", "rrelu_"])
def test_in_place_forms(name: str) -> None:
    x = RNG.uniform(-2, 2, (3, 4)).astype(np.float32)
    ours, theirs = deepgrad.tensor(x), torch.tensor(x)
    assert getattr(F, name)(ours) is ours
    getattr(TF, name)(theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6, rtol=1e-5)
    t_ours, t_theirs = deepgrad.tensor(x), torch.tensor(x)
    F.threshold_(t_ours, 0.5, -1.0)
    TF.threshold_(t_theirs, 0.5, -1.0)
    np.testing.assert_array_equal(t_ours.numpy(), t_theirs.numpy())


def test_errors_name_the_op() -> None:
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 3"):
        F.glu(deepgrad.zeros(2, 3), 1)
    with pytest.raises(ValueError, match="softshrink: lambda must be greater or equal to 0"):
        F.softshrink(deepgrad.zeros(2), -1.0)
    with pytest.raises(ValueError, match="Softmax2d: expected input of 3 or 4 dimensions"):
        nn.Softmax2d()(deepgrad.zeros(2, 3))
