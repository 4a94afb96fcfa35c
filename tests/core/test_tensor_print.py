"""A tensor prints as torch prints it: the same values, widths, wrapping, summaries, suffixes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import torch_or_skip

RNG = np.random.default_rng(0)
CASES = {
    "randn": RNG.standard_normal((4, 5)).astype(np.float32),
    "integral floats": np.array([1.0, 2.0, 3.0], np.float32),
    "nan and infinities": np.array([1.0, np.nan, np.inf, -np.inf], np.float32),
    "nan among fractions": np.array([1.5, np.nan, -np.inf], np.float32),
    "tiny: scientific": np.array([1e-5, 1.0, 2.5], np.float32),
    "huge: scientific": np.array([1e9, 1.0], np.float32),
    "wide ratio: scientific": np.array([0.001, 3.0], np.float32),
    "int64": np.arange(12).reshape(3, 4),
    "int32": np.arange(5, dtype=np.int32),
    "uint8": np.array([[0, 255], [7, 8]], np.uint8),
    "bool": np.array([True, False, True]),
    "float64": np.array([1.5, 2.25]),
    "float16": np.array([1.5, 2.25], np.float16),
    "0-d": np.array(3.14159, np.float32),
    "0-d int": np.array(7),
    "zeros": np.zeros((2, 3), np.float32),
    "negative zero": np.array([-0.0, 0.0], np.float32),
    "empty": np.zeros((0,), np.float32),
    "empty 2-d": np.zeros((2, 0), np.float32),
    "empty int": np.zeros((0,), np.int64),
    "a row that wraps": np.linspace(-3, 3, 40).astype(np.float32),
    "summarized 2-d": np.arange(2000, dtype=np.float32).reshape(40, 50) / 7,
    "summarized 3-d": RNG.standard_normal((10, 10, 20)).astype(np.float32),
    "summarized int": np.arange(1001),
    "4-d": RNG.standard_normal((2, 2, 2, 3)).astype(np.float32),
    "complex": np.array([1 + 2j, -0.5 - 1j], np.complex64),
}


def _both(array: np.ndarray) -> tuple[str, str]:
    torch = torch_or_skip()
    expected = repr(torch.from_numpy(array.copy())).replace("torch.", "deepgrad.")
    return expected, repr(deepgrad.from_numpy(array.copy()))


@pytest.mark.parametrize("name", list(CASES))
def test_repr_is_torchs(name: str) -> None:
    expected, got = _both(CASES[name])
    assert got == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 17])
def test_requires_grad_suffix_and_its_line_break(dtype: Any, size: int) -> None:
    torch = torch_or_skip()
    array = RNG.standard_normal(size).astype(dtype)
    expected = repr(torch.from_numpy(array.copy()).requires_grad_()).replace("torch.", "deepgrad.")
    assert repr(deepgrad.from_numpy(array.copy()).requires_grad_()) == expected
    param = deepgrad.nn.Parameter(deepgrad.from_numpy(array.copy()))
    assert repr(param) == repr(torch.nn.Parameter(torch.from_numpy(array.copy()))).replace(
        "torch.", "deepgrad.")
    assert str(param * 2).endswith("grad_fn=<MulBackward>)")  # the node's own name


@pytest.fixture
def options() -> Iterator[None]:
    yield
    torch = torch_or_skip()
    torch.set_printoptions(profile="default")
    deepgrad.set_printoptions(profile="default")


@pytest.mark.parametrize("settings", [
    {"precision": 2}, {"profile": "short"}, {"profile": "full"}, {"sci_mode": True},
    {"sci_mode": False}, {"linewidth": 40}, {"edgeitems": 0, "threshold": 5},
    {"threshold": 10, "edgeitems": 1}])
def test_printoptions_as_torchs(settings: dict[str, Any], options: None) -> None:
    torch = torch_or_skip()
    torch.set_printoptions(**settings)
    deepgrad.set_printoptions(**settings)
    assert deepgrad.get_printoptions() == torch._tensor_str.get_printoptions()
    for name in ("randn", "tiny: scientific", "a row that wraps", "summarized 2-d", "int64"):
        expected, got = _both(CASES[name])
        assert got == expected, name


def test_printoptions_block_restores_and_bad_profile_says_the_choices() -> None:
    before = deepgrad.get_printoptions()
    with deepgrad.printoptions(precision=1):
        assert repr(deepgrad.tensor([1.25, 2.0])) == "tensor([1.2, 2.0])"
    assert deepgrad.get_printoptions() == before
    with pytest.raises(ValueError, match=r"profile must be one of \['default', 'full', 'short'\]"):
        deepgrad.set_printoptions(profile="long")
