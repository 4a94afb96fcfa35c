"""The zoo: each report's models by name, with the reports' parameter counts and shapes."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from deepgrad.lab import zoo
from deepgrad.lab.config import ConfigError

# Parameter counts as the reports print them (001's tables; 002, 003, 004 computed from the
# layer lists they give).
REPORTED = {
    "mlp": 266_610,  # 003 architecture B: 784-300-100-10
    "mnist-cnn": 3_274_634,  # 001 "Total 3274634"
    "mnist-cnn-3x3": 3_241_354,  # 001 "Total 3241354"
    "cifar-cnn": 537_610,  # 001 "Total 537610"
    "tutorial-cnn": 62_006,
    "lenet5": 62_006,
    "denoising-ae": 222_384,
    "moons-net": 17,  # 2-3-2
}


def n_params(model: object) -> int:
    return zoo.count_parameters(model)


def test_every_report_model_is_registered() -> None:
    assert set(REPORTED) <= set(zoo.list_models())
    reports = {r.strip() for s in zoo.specs() for r in s.report.split(",")}
    assert reports == {"000", "001", "002", "003", "004"}


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_parameter_counts_match_the_reports(name: str) -> None:
    model = zoo.get_model(name)
    assert n_params(model) == REPORTED[name] == zoo.get_spec(name).params


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_forward_shapes(name: str) -> None:
    spec = zoo.get_spec(name)
    model = zoo.get_model(name)
    model.eval()
    x = deepgrad.rand(2, *spec.input_shape)
    with deepgrad.no_grad():
        y = model(x)
    if spec.task == "autoencoder":
        assert tuple(y.shape) == (2, *spec.input_shape)
        assert 0.0 <= float(y.data.numpy().min()) and float(y.data.numpy().max()) <= 1.0
    else:
        assert tuple(y.shape) == (2, 10 if name != "moons-net" else 2)


def test_mnist_cnn_layer_table_matches_report_001() -> None:
    sizes = {n: p.data.numpy().size for n, p in zoo.get_model("mnist-cnn").named_parameters()}
    assert sizes == {
        "conv1.weight": 800, "conv1.bias": 32, "conv2.weight": 51200, "conv2.bias": 64,
        "fc1.weight": 3211264, "fc1.bias": 1024, "fc2.weight": 10240, "fc2.bias": 10,
    }  # fmt: skip


def test_cifar_cnn_layer_table_matches_report_001() -> None:
    sizes = {n: p.data.numpy().size for n, p in zoo.get_model("cifar-cnn").named_parameters()}
    assert sizes == {
        "conv1.weight": 1728, "conv1.bias": 64, "conv2.weight": 73728, "conv2.bias": 128,
        "conv3.weight": 294912, "conv3.bias": 256, "fc1.weight": 131072, "fc1.bias": 128,
        "fc2.weight": 32768, "fc2.bias": 256, "fc3.weight": 2560, "fc3.bias": 10,
    }  # fmt: skip


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        ("mnist-cnn-3x3", {"channels": [64, 128]}, 6_508_298),  # 001's doubled filters
        ("mlp", {"widths": [3072, 100, 10]}, 308_310),  # 000's starting network
        ("mlp", {"widths": [784, 200, 10]}, 159_010),  # 003 architecture A
        ("mlp", {"widths": [3072, 1500, 400, 10], "dropout": 0.12}, 5_213_910),  # 000's best
        ("cifar-cnn", {"pooling": "avg", "conv1_kernel": 5}, 540_682),  # 001 discussion 1d
        ("moons-net", {"hidden": 6}, 32),
    ],
)
def test_variants(name: str, kwargs: dict, expected: int) -> None:
    model = zoo.get_model(name, **kwargs)
    assert n_params(model) == expected
    spec = zoo.get_spec(name)
    shape = spec.input_shape_for(kwargs)
    model.eval()
    with deepgrad.no_grad():
        assert model(deepgrad.rand(2, *shape)).shape[0] == 2


def test_selectable_activation_and_pooling() -> None:
    from deepgrad import nn

    model = zoo.get_model("cifar-cnn", activation="selu", pooling="avg")
    assert isinstance(model.act1, nn.SELU) and isinstance(model.pool1, nn.AvgPool2d)
    assert isinstance(model.act4, nn.ReLU)  # the report keeps ReLU in the fc layers
    lenet = zoo.get_model("lenet5")
    assert isinstance(lenet.act1, nn.Tanh) and isinstance(lenet.pool1, nn.AvgPool2d)
    net = zoo.get_model("mlp", widths=[10, 5, 5, 2], activation="tanh", dropout=0.5)
    assert isinstance(net.act1, nn.Tanh) and isinstance(net.drop2, nn.Dropout)


def test_inits_follow_their_definition() -> None:
    deepgrad.manual_seed(0)
    w = zoo.get_model("mlp", widths=[3072, 100, 10], init="normal",
                      init_std=1e-4).fc1.weight.data.numpy()
    assert abs(w.std() - 1e-4) < 5e-6 and abs(w.mean()) < 1e-5
    w = zoo.get_model(
        "mlp", widths=[3072, 100, 10], init="uniform", init_scale=0.01
    ).fc1.weight.data
    assert w.min() >= -0.01 and w.max() <= 0.01 and w.max() > 0.0099
    xav = zoo.get_model("mlp", widths=[300, 300, 10], init="xavier").fc1
    bound = np.sqrt(6 / 600)
    assert np.abs(xav.weight.data.numpy()).max() <= bound and np.all(xav.bias.data.numpy() == 0)
    # N(0, 1/fan_in), fan_in=2
    lecun = zoo.get_model("moons-net", hidden=2000).fc1.weight.data.numpy()
    assert abs(lecun.std() - 1 / np.sqrt(2)) < 0.03


def test_same_seed_same_weights() -> None:
    deepgrad.manual_seed(3)
    a = zoo.get_model("tutorial-cnn").conv1.weight.data.numpy().copy()
    deepgrad.manual_seed(3)
    b = zoo.get_model("tutorial-cnn").conv1.weight.data.numpy()
    np.testing.assert_array_equal(a, b)


def test_bad_names_and_arguments_say_what_is_allowed() -> None:
    with pytest.raises(KeyError, match="unknown model 'vgg'.*mnist-cnn"):
        zoo.get_model("vgg")
    with pytest.raises(ConfigError, match=r"unknown key 'kernel' .*allowed: .*channels"):
        zoo.get_model("mnist-cnn", kernel=3)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        zoo.get_model("mlp", activation="swish")
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        zoo.get_model("cifar-cnn", pooling="min")
    with pytest.raises(ValueError, match="mlp: expected 784 input features"):
        zoo.get_model("mlp")(deepgrad.rand(2, 3, 32, 32))


def test_default_configs_are_fresh_copies() -> None:
    a = zoo.default_config("mnist-cnn")
    a["model"]["dropout"] = 0.9
    assert "dropout" not in zoo.default_config("mnist-cnn")["model"]
