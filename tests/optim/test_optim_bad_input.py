"""Bad arguments fail at construction with errors that name the optimizer and the value."""

from __future__ import annotations

import pytest

import deepgrad as dg
from deepgrad import optim

NAMES = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam"]
BETAS = ["Adam", "AdamW", "Adamax", "NAdam"]


def _w() -> dg.Tensor:
    return dg.ones(3, requires_grad=True)


@pytest.mark.parametrize("name", NAMES)
def test_negative_lr(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: invalid lr value -0.1 \(expected >= 0"):
        getattr(optim, name)([_w()], lr=-0.1)


@pytest.mark.parametrize("name", NAMES)
def test_negative_lr_in_a_param_group(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: invalid lr value -1"):
        getattr(optim, name)([{"params": [_w()]}, {"params": [_w()], "lr": -1}], lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_negative_weight_decay(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: invalid weight_decay value -0.5"):
        getattr(optim, name)([_w()], lr=0.1, weight_decay=-0.5)


@pytest.mark.parametrize("name", NAMES)
def test_lr_that_is_not_a_number(name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}: lr must be a real number, got '0.1'"):
        getattr(optim, name)([_w()], lr="0.1")


@pytest.mark.parametrize("name", BETAS)
@pytest.mark.parametrize(("betas", "index", "bad"),
                         [((1.0, 0.999), 0, "1.0"), ((0.9, -0.1), 1, "-0.1"),
                          ((0.9, 1.5), 1, "1.5")])
def test_betas_outside_0_1(name: str, betas: tuple[float, float], index: int, bad: str) -> None:
    with pytest.raises(ValueError,
                       match=rf"{name}: invalid beta parameter at index {index}: {bad}"):
        getattr(optim, name)([_w()], lr=0.1, betas=betas)


@pytest.mark.parametrize("name", BETAS)
def test_betas_not_a_pair(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: betas must be a pair"):
        getattr(optim, name)([_w()], lr=0.1, betas=(0.9,))


@pytest.mark.parametrize("name", NAMES)
def test_empty_parameter_list(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: got an empty parameter list"):
        getattr(optim, name)([], lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_empty_generator(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: got an empty parameter list"):
        getattr(optim, name)(iter(()), lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_in_two_groups(name: str) -> None:
    w = _w()
    with pytest.raises(ValueError, match=rf"{name}: some parameters appear in more than one"):
        getattr(optim, name)([{"params": [w]}, {"params": [_w(), w]}], lr=0.1)


def test_add_param_group_with_a_known_parameter() -> None:
    w = _w()
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one"):
        opt.add_param_group({"params": [w]})


def test_parameter_twice_in_one_group() -> None:
    w = _w()
    with pytest.raises(ValueError, match="Adam: a parameter appears twice in param group 0"):
        optim.Adam([w, w], lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_non_tensor_params(name: str) -> None:
    import numpy as np

    with pytest.raises(TypeError, match=rf"{name} can only optimize Tensors, but params\[1\] "
                                        r"of group 0 is a ndarray"):
        getattr(optim, name)([_w(), np.ones(3)], lr=0.1)


def test_a_single_tensor_instead_of_a_list() -> None:
    with pytest.raises(TypeError, match="SGD: params should be an iterable .* wrap it in a list"):
        optim.SGD(_w(), lr=0.1)


def test_a_set_of_params() -> None:
    with pytest.raises(TypeError, match="Adam: parameters must be given in an ordered"):
        optim.Adam({_w()}, lr=0.1)


def test_non_leaf_tensor() -> None:
    w = _w()
    with pytest.raises(ValueError, match="SGD can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)


def test_integer_tensor() -> None:
    with pytest.raises(TypeError, match="SGD can only optimize floating point Tensors"):
        optim.SGD([dg.tensor([1, 2])], lr=0.1)


def test_param_group_that_is_not_a_dict() -> None:
    opt = optim.SGD([_w()], lr=0.1)
    with pytest.raises(TypeError, match="SGD.add_param_group: param_group must be a dict"):
        opt.add_param_group([_w()])  # type: ignore[arg-type]


def test_nesterov_without_momentum() -> None:
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires a momentum > 0"):
        optim.SGD([_w()], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening=0.5"):
        optim.SGD([_w()], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)


@pytest.mark.parametrize(("name", "key", "value"),
                         [("SGD", "momentum", -0.9), ("Adagrad", "lr_decay", -1.0),
                          ("Adagrad", "eps", -1e-10), ("Adadelta", "rho", 1.5),
                          ("RMSprop", "alpha", -0.5), ("RMSprop", "momentum", -0.1),
                          ("Adam", "eps", -1e-8), ("NAdam", "momentum_decay", -0.1)])
def test_other_bad_hyperparameters(name: str, key: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{name}: invalid {key} value {value}"):
        getattr(optim, name)([_w()], lr=0.1, **{key: value})
