"""nn.init: every initialiser's statistics over 1e5 draws, torch's fans and gains."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

import deepgrad
from deepgrad.nn import Parameter, init

N = 100_000


def empty(*shape: int) -> Parameter:
    return Parameter(np.empty(shape, dtype=np.float32))


def check_moments(values: np.ndarray, mean: float, std: float, tol: float = 0.02) -> None:
    """Sample mean and std within a few standard errors of the expected ones."""
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n) + 1e-7, (values.mean(), mean)
    assert abs(values.std() - std) < tol * std, (values.std(), std)


def test_uniform_and_normal() -> None:
    t = init.uniform_(empty(N), -0.5, 1.5)
    assert t.data.numpy().min() >= -0.5 and t.data.numpy().max() < 1.5
    check_moments(t.data.numpy(), 0.5, 2 / math.sqrt(12))
    check_moments(init.normal_(empty(N), 1.0, 1e-4).data.numpy(), 1.0, 1e-4)  # report 000's std


def test_trunc_normal_bounds_and_moments() -> None:
    mean, std, a, b = 0.2, 0.1, 0.0, 0.35
    t = init.trunc_normal_(empty(N), mean, std, a, b)
    assert t.data.numpy().min() >= a and t.data.numpy().max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = statistics.NormalDist().pdf
    cdf = statistics.NormalDist().cdf
    z = cdf(beta) - cdf(alpha)
    exp_mean = mean + (phi(alpha) - phi(beta)) / z * std
    exp_var = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z
                        - ((phi(alpha) - phi(beta)) / z) ** 2)
    check_moments(t.data.numpy(), exp_mean, math.sqrt(exp_var))


def test_trunc_normal_tf_style() -> None:
    """Report 001's ``tf.truncated_normal(stddev=0.1)``: cut at two standard deviations."""
    t = init.trunc_normal_(empty(N), std=0.1, a=-0.2, b=0.2)
    assert np.abs(t.data.numpy()).max() <= 0.2
    check_moments(t.data.numpy(), 0.0, 0.1 * 0.8796, tol=0.02)  # std of N(0,1) cut at +-2


def test_normal_quantile_is_accurate() -> None:
    p = np.array([1e-10, 1e-4, 0.02, 0.3, 0.5, 0.8, 0.99, 1 - 1e-6])
    expected = [statistics.NormalDist().inv_cdf(float(q)) for q in p]
    np.testing.assert_allclose(init.normal_quantile(p), expected, rtol=1e-8, atol=1e-9)


def test_constant_zeros_ones_eye() -> None:
    assert (init.constant_(empty(3, 4), 0.25).data.numpy() == 0.25).all()
    assert not init.zeros_(empty(5)).data.numpy().any()
    assert (init.ones_(empty(2, 2)).data.numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(empty(2, 3)).data.numpy(), np.eye(2, 3))


def test_fans_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for shape in [(20, 30), (8, 4, 3, 3), (6, 5, 7)]:
        ours = init._calculate_fan_in_and_fan_out(empty(*shape))
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert ours == theirs
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(empty(5))


def test_gains_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_xavier() -> None:
    fan_in, fan_out = 300, 200
    std = math.sqrt(2 / (fan_in + fan_out))
    t = init.xavier_uniform_(empty(fan_out, fan_in), gain=2.0)
    assert np.abs(t.data.numpy()).max() <= 2.0 * math.sqrt(3) * std
    check_moments(t.data.numpy(), 0.0, 2.0 * std)
    check_moments(init.xavier_normal_(empty(fan_out, fan_in)).data.numpy(), 0.0, std)


def test_kaiming() -> None:
    w = empty(250, 40, 3, 3)  # fan_in 360, fan_out 2250
    t = init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    check_moments(t.data.numpy(), 0.0, math.sqrt(2) / math.sqrt(2250))
    t = init.kaiming_uniform_(w, a=math.sqrt(5))  # torch's Linear/Conv default
    bound = 1 / math.sqrt(360)
    assert np.abs(t.data.numpy()).max() <= bound
    check_moments(t.data.numpy(), 0.0, bound / math.sqrt(3))
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_orthogonal() -> None:
    for shape in [(6, 10), (10, 6), (4, 3, 2)]:
        t = init.orthogonal_(empty(*shape), gain=1.5)
        flat = t.data.numpy().reshape(shape[0], -1).astype(np.float64)
        small = min(flat.shape)
        gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
        np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-5)


def test_init_keeps_dtype_builds_no_graph_and_follows_seed() -> None:
    w = Parameter(np.empty((3, 4), dtype=np.float64))
    init.normal_(w)
    assert w.dtype == np.float64 and w.grad_fn is None and w.requires_grad
    deepgrad.manual_seed(5)
    a = init.xavier_uniform_(empty(3, 4)).data.numpy().copy()
    deepgrad.manual_seed(5)
    np.testing.assert_array_equal(init.xavier_uniform_(empty(3, 4)).data.numpy(), a)


def test_report_000_initialiser_study_is_expressible() -> None:
    """Gaussian, truncated normal, uniform, Xavier, He and zeros on one MLP layer."""
    import deepgrad.nn as nn

    schemes = {
        "gaussian": lambda w: init.normal_(w, std=1e-4),
        "truncated": lambda w: init.trunc_normal_(w, std=0.1, a=-0.2, b=0.2),
        "uniform": lambda w: init.uniform_(w, -0.05, 0.05),
        "xavier": init.xavier_uniform_,
        "he": lambda w: init.kaiming_normal_(w, nonlinearity="relu"),
        "zeros": init.zeros_,
    }
    for name, scheme in schemes.items():
        layer = nn.Linear(3072, 100)
        scheme(layer.weight)
        init.zeros_(layer.bias)
        out = layer(deepgrad.randn(8, 3072))
        assert out.shape == (8, 100), name
        assert np.isfinite(out.data.numpy()).all(), name
    assert not out.data.numpy().any()  # zeros: every unit the same (all zero)


def test_init_rejects_non_tensors() -> None:
    with pytest.raises(TypeError, match="deepgrad Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(empty(3), a=1.0, b=0.0)
