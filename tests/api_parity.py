"""Write a behaviour once, run it with ``torch`` and with ``deepgrad`` as the module, compare.

``assert_same(fn)`` calls ``fn(torch)`` and ``fn(deepgrad)``. Either both return
equal results (tensors compared by dtype name, shape, ``requires_grad`` and
values; devices by ``str``/``repr``; containers element by element), or both
raise, and deepgrad's exception is an instance of torch's exception type (so
an ``except`` written for torch catches deepgrad's error too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import deepgrad
from helpers import torch_or_skip

RTOL = 1e-5
ATOL = 1e-6


def _dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def plain(value: Any) -> Any:
    """A torch- or deepgrad-free picture of ``value`` that ``==`` can compare."""
    torch = torch_or_skip()
    if isinstance(value, (torch.Tensor, deepgrad.Tensor)):
        array = np.asarray(value.detach().numpy())
        return ("tensor", _dtype_name(value.dtype), tuple(array.shape),
                bool(value.requires_grad), array)
    if isinstance(value, (torch.device, deepgrad.device)):
        return ("device", str(value), repr(value))
    if isinstance(value, (torch.dtype, np.dtype)):
        return ("dtype", _dtype_name(value))
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _assert_close(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[0] == "tensor", f"{where}: {ours!r} vs tensor"
        assert ours[1:4] == theirs[1:4], f"{where}: (dtype, shape, requires_grad) " \
                                         f"{ours[1:4]} != torch's {theirs[1:4]}"
        np.testing.assert_allclose(ours[4], theirs[4], rtol=RTOL, atol=ATOL, equal_nan=True,
                                   err_msg=where)
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{where}: {ours!r} vs " \
                                                                    f"{theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), where
        for k in theirs:
            _assert_close(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, float) and not isinstance(theirs, bool):
        assert np.isclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True), \
            f"{where}: {ours!r} != torch's {theirs!r}"
    else:
        assert ours == theirs, f"{where}: {ours!r} != torch's {theirs!r}"


def outcome(fn: Callable[[Any], Any], module: Any) -> tuple[str, Any]:
    try:
        return "returned", plain(fn(module))
    except Exception as error:  # the exception is the result under test
        return "raised", error


def assert_same(fn: Callable[[Any], Any]) -> Any:
    """Same results, or the same kind of error, from torch and deepgrad; returns deepgrad's."""
    torch = torch_or_skip()
    theirs_kind, theirs = outcome(fn, torch)
    ours_kind, ours = outcome(fn, deepgrad)
    if theirs_kind == "raised":
        assert ours_kind == "raised", (
            f"torch raised {type(theirs).__name__}: {theirs}; deepgrad returned {ours!r}")
        assert isinstance(ours, type(theirs)), (
            f"torch raised {type(theirs).__name__} ({theirs}); deepgrad raised "
            f"{type(ours).__name__} ({ours}), which an `except {type(theirs).__name__}` "
            f"would not catch")
        return ours
    if ours_kind == "raised":
        raise AssertionError(f"torch returned {theirs!r}; deepgrad raised "
                             f"{type(ours).__name__}: {ours}") from ours
    _assert_close(ours, theirs, "result")
    return ours
