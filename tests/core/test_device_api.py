"""Devices as torch has them on a machine without a GPU: ``device``, ``cuda``,
``accelerator``, ``backends``, the default device and every factory's ``device=``.

Each behaviour is written once and run with torch and with deepgrad (``assert_same``).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import deepgrad
from api_parity import assert_same

D = Callable[[Any], Any]

DEVICES: dict[str, D] = {
    "cpu": lambda m: m.device("cpu"),
    "cpu-0": lambda m: m.device("cpu", 0),
    "cpu:1": lambda m: m.device("cpu:1"),
    "cuda:0": lambda m: m.device("cuda:0"),
    "cuda": lambda m: m.device("cuda"),
    "cuda-1": lambda m: m.device("cuda", 1),
    "keywords": lambda m: m.device(type="cuda", index=2),
    "index-none": lambda m: m.device("cpu", index=None),
    "mps": lambda m: m.device("mps"),
    "meta": lambda m: m.device("meta"),
    "copy": lambda m: m.device(m.device("cuda:1")),
}


@pytest.mark.parametrize("make", DEVICES.values(), ids=DEVICES.keys())
def test_device_parses_prints_and_reads_as_torch(make: D) -> None:
    assert_same(lambda m: (make(m), str(make(m)), repr(make(m)), make(m).type, make(m).index))


BAD_DEVICES: dict[str, D] = {
    "unknown type": lambda m: m.device("foo"),
    "upper case": lambda m: m.device("CPU"),
    "bad index": lambda m: m.device("cpu:x"),
    "negative in string": lambda m: m.device("cuda:-1"),
    "leading zero": lambda m: m.device("cuda:01"),
    "space": lambda m: m.device(" cpu"),
    "two indices": lambda m: m.device("cuda:0:1"),
    "negative index": lambda m: m.device("cpu", -1),
    "index twice": lambda m: m.device("cuda:0", 1),
    "bool index": lambda m: m.device("cpu", True),
    "str index": lambda m: m.device("cuda", "0"),
    "float": lambda m: m.device(1.0),
    "none": lambda m: m.device(None),
    "int means accelerator": lambda m: m.device(0),
    "negative int": lambda m: m.device(-1),
}


@pytest.mark.parametrize("make", BAD_DEVICES.values(), ids=BAD_DEVICES.keys())
def test_bad_device_raises_as_torch(make: D) -> None:
    assert_same(make)


COMPARISONS: dict[str, D] = {
    "index matters": lambda m: m.device("cpu") == m.device("cpu", 0),
    "string index = int index": lambda m: m.device("cuda", 0) == m.device("cuda:0"),
    "never equals a str": lambda m: (m.device("cpu") == "cpu", "cpu" == m.device("cpu")),
    "ne": lambda m: m.device("cpu") != m.device("cuda"),
    "hash of equals": lambda m: hash(m.device("cuda", 0)) == hash(m.device("cuda:0")),
    "hash is not a str's": lambda m: hash(m.device("cpu")) == hash("cpu"),
    "dict key": lambda m: {m.device("cpu"): 1}[m.device("cpu")],
    "no ordering": lambda m: m.device("cpu") < m.device("cuda"),
    "pickle": lambda m: pickle.loads(pickle.dumps(m.device("cuda:1"))),
    "deepcopy": lambda m: copy.deepcopy(m.device("cpu", 0)),
    "not a str": lambda m: isinstance(m.device("cpu"), str),
}


@pytest.mark.parametrize("check", COMPARISONS.values(), ids=COMPARISONS.keys())
def test_device_compares_and_hashes_as_torch(check: D) -> None:
    assert_same(check)


NO_GPU: dict[str, D] = {
    "cuda.is_available": lambda m: m.cuda.is_available(),
    "cuda.device_count": lambda m: m.cuda.device_count(),
    "cuda.is_initialized": lambda m: m.cuda.is_initialized(),
    "cuda.manual_seed": lambda m: m.cuda.manual_seed(1),
    "cuda.manual_seed negative": lambda m: m.cuda.manual_seed(-1),
    "cuda.manual_seed bad": lambda m: m.cuda.manual_seed("a"),
    "cuda.manual_seed_all": lambda m: m.cuda.manual_seed_all(1),
    "cuda.seed": lambda m: (m.cuda.seed(), m.cuda.seed_all()),
    "cuda.synchronize": lambda m: m.cuda.synchronize(),
    "cuda.current_device": lambda m: m.cuda.current_device(),
    "cuda.get_device_name": lambda m: m.cuda.get_device_name(),
    "cuda.memory": lambda m: (m.cuda.memory_allocated(), m.cuda.max_memory_allocated(),
                              m.cuda.memory_reserved(), m.cuda.empty_cache()),
    "cuda.is_bf16_supported": lambda m: m.cuda.is_bf16_supported(),
    "accelerator.is_available": lambda m: m.accelerator.is_available(),
    "accelerator.current_accelerator": lambda m: m.accelerator.current_accelerator(),
    "accelerator.checked": lambda m: m.accelerator.current_accelerator(check_available=True),
    "accelerator.device_count": lambda m: m.accelerator.device_count(),
    "accelerator.synchronize": lambda m: m.accelerator.synchronize(),
    "accelerator.current_device_index": lambda m: m.accelerator.current_device_index(),
    "mps": lambda m: (m.backends.mps.is_available(), m.backends.mps.is_built()),
    "cudnn": lambda m: (m.backends.cudnn.is_available(), m.backends.cudnn.version(),
                        m.backends.cudnn.enabled, m.backends.cudnn.benchmark,
                        m.backends.cudnn.deterministic),
    "the tutorial's choice": lambda m: m.device("cuda" if m.cuda.is_available() else "cpu"),
    "the torch 2 choice": lambda m: (m.accelerator.current_accelerator() or m.device("cpu")),
}


@pytest.mark.parametrize("ask", NO_GPU.values(), ids=NO_GPU.keys())
def test_no_gpu_answers_as_torch_on_cpu(ask: D) -> None:
    assert_same(ask)


def test_cuda_errors_are_both_runtime_and_assertion_errors() -> None:
    """torch without CUDA raises AssertionError; torch with CUDA but no GPU, RuntimeError."""
    for call in (deepgrad.cuda.synchronize, lambda: deepgrad.zeros(1, device="cuda")):
        with pytest.raises(RuntimeError):
            call()
        with pytest.raises(AssertionError):
            call()


# ---- the default device --------------------------------------------------------------


def _default_after(m: Any, dev: Any) -> Any:
    m.set_default_device(dev)
    try:
        return m.get_default_device(), str(m.zeros(1).device)
    finally:
        m.set_default_device(None)


def test_default_device_is_the_cpu() -> None:
    assert_same(lambda m: m.get_default_device())
    assert_same(lambda m: _default_after(m, "cpu"))
    assert_same(lambda m: _default_after(m, m.device("cpu")))
    assert_same(lambda m: _default_after(m, None))


def _inside_device(m: Any, name: str) -> Any:
    with m.device(name):
        return m.get_default_device(), str(m.ones(2).device)


def test_device_as_a_context_manager() -> None:
    assert_same(lambda m: _inside_device(m, "cpu"))
    assert_same(lambda m: (_inside_device(m, "cpu"), m.get_default_device()))
    assert_same(lambda m: _inside_device(m, "cuda"))  # torch fails at the factory, we at once
    assert deepgrad.get_default_device() == deepgrad.device("cpu")


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps", "meta"])
def test_set_default_device_to_a_gpu_fails_at_once(name: str) -> None:
    """torch accepts the setting and fails at the next factory; failing at the setting
    points at the line to change."""
    with pytest.raises(RuntimeError, match="deepgrad runs on NumPy"):
        deepgrad.set_default_device(name)
    assert deepgrad.get_default_device() == deepgrad.device("cpu")
    assert str(deepgrad.zeros(1).device) == "cpu"


# ---- device= on every factory ---------------------------------------------------------

FACTORIES: dict[str, Callable[..., Any]] = {
    "zeros": lambda m, **kw: m.zeros(2, 3, **kw),
    "ones": lambda m, **kw: m.ones(2, **kw),
    "empty": lambda m, **kw: m.empty(2, **kw).shape,
    "full": lambda m, **kw: m.full((2,), 1.5, **kw),
    "zeros_like": lambda m, **kw: m.zeros_like(m.ones(2), **kw),
    "ones_like": lambda m, **kw: m.ones_like(m.ones(2), **kw),
    "empty_like": lambda m, **kw: m.empty_like(m.ones(2), **kw).shape,
    "full_like": lambda m, **kw: m.full_like(m.ones(2), 7, **kw),
    "arange": lambda m, **kw: m.arange(5, **kw),
    "linspace": lambda m, **kw: m.linspace(0, 1, 5, **kw),
    "eye": lambda m, **kw: m.eye(3, **kw),
    "rand": lambda m, **kw: m.rand(2, 3, **kw).shape,
    "randn": lambda m, **kw: m.randn(2, **kw).shape,
    "randint": lambda m, **kw: m.randint(0, 5, (3,), **kw).shape,
    "randperm": lambda m, **kw: sorted(m.randperm(4, **kw).tolist()),
    "rand_like": lambda m, **kw: m.rand_like(m.ones(2), **kw).shape,
    "randn_like": lambda m, **kw: m.randn_like(m.ones(2), **kw).shape,
    "randint_like": lambda m, **kw: m.randint_like(m.ones(2), 5, **kw).shape,
    "normal": lambda m, **kw: m.normal(0.0, 1.0, (2,), **kw).shape,
    "tensor": lambda m, **kw: m.tensor([1, 2], **kw),
}


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("where", ["cpu", "cpu:0", "device(cpu)", "none"])
def test_factory_accepts_the_cpu(name: str, where: str) -> None:
    make = FACTORIES[name]
    kwargs: dict[str, Callable[[Any], Any]] = {
        "cpu": lambda m: {"device": "cpu"},
        "cpu:0": lambda m: {"device": "cpu:0"},
        "device(cpu)": lambda m: {"device": m.device("cpu")},
        "none": lambda m: {"device": None},
    }
    assert_same(lambda m: make(m, **kwargs[where](m)))


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("where", ["cuda", "cuda:0", "unknown"])
def test_factory_refuses_other_devices_as_torch(name: str, where: str) -> None:
    device = {"cuda": "cuda", "cuda:0": "cuda:0", "unknown": "foo"}[where]
    error = assert_same(lambda m: FACTORIES[name](m, device=device))
    if where != "unknown":
        message = str(error)
        assert "deepgrad runs on NumPy (CPU)" in message and f"'{device}'" in message
        assert "is_available() is False" in message


def test_tensor_on_the_cpu_keeps_its_data() -> None:
    x = deepgrad.tensor([[1.0, 2.0]], device=deepgrad.device("cpu"), requires_grad=True)
    assert x.requires_grad and x.tolist() == [[1.0, 2.0]] and str(x.device) == "cpu"
