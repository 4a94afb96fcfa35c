"""The everyday functions of tutorials, torch against deepgrad on the same code:
``all``/``any``, ``histc``/``histogram``, ``inference_mode``, ``Size`` and the
factories' ``dtype=``/``requires_grad=``/``out=`` and argument checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad
from api_parity import assert_same
from helpers import torch_or_skip

D = Callable[[Any], Any]


def _b(m: Any) -> Any:
    return m.tensor([[True, False], [True, True]])


# ---- all / any -------------------------------------------------------------------------

LOGICAL: dict[str, D] = {
    "all": lambda m: m.all(_b(m)),
    "any": lambda m: m.any(_b(m)),
    "all dim": lambda m: m.all(_b(m), dim=1),
    "any dim 0": lambda m: m.any(_b(m), 0),
    "keepdim": lambda m: m.all(_b(m), 1, keepdim=True),
    "keepdim positional": lambda m: m.all(_b(m), 0, True),
    "negative dim": lambda m: _b(m).all(-1),
    "dim tuple": lambda m: m.all(_b(m), dim=(0,)),
    "dims list keepdim": lambda m: m.any(_b(m), dim=[0, 1], keepdim=True),
    "method dims": lambda m: _b(m).any(dim=(0, 1)),
    "method": lambda m: (_b(m).all(), _b(m).any()),
    "dim None": lambda m: m.all(_b(m), dim=None),
    "empty dims reduce nothing": lambda m: m.all(_b(m), dim=()),
    "floats": lambda m: (m.all(m.tensor([1.0, 2.0])), m.any(m.tensor([0.0, 0.0]))),
    "nan is true": lambda m: m.all(m.tensor([float("nan")])),
    "ints": lambda m: (m.all(m.tensor([1, 0])), m.any(m.tensor([1, 0]))),
    "uint8 stays uint8": lambda m: (m.all(m.tensor([0, 2], dtype=m.uint8)),
                                    m.any(m.tensor([0, 2], dtype=m.uint8), 0)),
    "empty all": lambda m: m.all(m.tensor([], dtype=m.bool)),
    "empty any": lambda m: m.any(m.tensor([])),
    "empty dim": lambda m: m.all(m.zeros(2, 0), 1),
    "0-d": lambda m: (m.all(m.tensor(3.0)), m.all(m.tensor(0.0), 0), m.any(m.tensor(3.0), -1)),
    "0-d empty dims": lambda m: m.all(m.tensor(3.0), dim=()),
    "requires grad": lambda m: m.all(m.tensor([1.0, 2.0], requires_grad=True)),
    "out": lambda m: (lambda o: (m.all(_b(m), out=o) is o, o))(m.empty((), dtype=m.bool)),
    "dim out of range": lambda m: m.all(_b(m), dim=2),
    "not a tensor": lambda m: m.all([True]),
}


@pytest.mark.parametrize("check", LOGICAL.values(), ids=LOGICAL.keys())
def test_all_any_as_torch(check: D) -> None:
    assert_same(check)


# ---- histc / histogram -----------------------------------------------------------------


def _x(m: Any) -> Any:
    return m.tensor([1.0, 2.0, 1.0, 4.0, 2.5])


HISTC: dict[str, D] = {
    "range": lambda m: m.histc(_x(m), bins=4, min=0, max=3),
    "data range": lambda m: m.histc(_x(m), 4),
    "100 bins": lambda m: m.histc(_x(m)),
    "positional": lambda m: m.histc(_x(m), 4, 0, 3),
    "float64": lambda m: m.histc(_x(m).double(), 4),
    "one value": lambda m: m.histc(m.tensor([2.0, 2.0]), 4),
    "empty": lambda m: m.histc(m.tensor([]), 4),
    "min equals max": lambda m: m.histc(_x(m), 4, min=1, max=1),
    "top edge in last bin": lambda m: m.histc(m.tensor([0.0, 1, 2, 3]), 3, 0, 3),
    "outside skipped": lambda m: m.histc(_x(m), 3, min=2, max=2.5),
    "inf outside range": lambda m: m.histc(m.tensor([1.0, float("inf")]), 4, 0, 2),
    "2-D": lambda m: m.histc(m.tensor([[1.0, 2], [3, 4]]), 2),
    "method": lambda m: _x(m).histc(3),
    "out": lambda m: (lambda o: (m.histc(_x(m), 4, 0, 3, out=o) is o, o))(m.empty(4)),
    "ints": lambda m: m.histc(m.tensor([1, 2]), 4),
    "zero bins": lambda m: m.histc(_x(m), 0),
    "negative bins": lambda m: m.histc(_x(m), -1),
    "float bins": lambda m: m.histc(_x(m), 2.5),
    "min above max": lambda m: m.histc(_x(m), 4, 3, 1),
    "nan data": lambda m: m.histc(m.tensor([1.0, float("nan")]), 4),
    "inf data": lambda m: m.histc(m.tensor([1.0, float("inf")]), 4),
    "inf max": lambda m: m.histc(_x(m), 4, min=-1, max=float("inf")),
}


@pytest.mark.parametrize("check", HISTC.values(), ids=HISTC.keys())
def test_histc_as_torch(check: D) -> None:
    assert_same(check)


HISTOGRAM: dict[str, D] = {
    "bins": lambda m: m.histogram(_x(m), bins=4),
    "fields": lambda m: (lambda h: (h.hist, h.bin_edges))(m.histogram(_x(m), 4)),
    "range": lambda m: m.histogram(_x(m), 4, range=(0.0, 3.0)),
    "edges": lambda m: m.histogram(_x(m), m.tensor([0.0, 1, 3, 5])),
    "density": lambda m: m.histogram(_x(m), 4, density=True),
    "density edges": lambda m: m.histogram(_x(m), m.tensor([0.0, 1, 3, 5]), density=True),
    "weight": lambda m: m.histogram(_x(m), 4, weight=m.ones(5) * 2),
    "float64": lambda m: m.histogram(_x(m).double(), 4),
    "one value": lambda m: m.histogram(m.tensor([2.0, 2.0]), 4),
    "one-point range": lambda m: m.histogram(_x(m), 4, range=(1, 1)),
    "empty": lambda m: m.histogram(m.tensor([]), 2),
    "decreasing edges": lambda m: m.histogram(_x(m), m.tensor([3.0, 1])),
    "method": lambda m: _x(m).histogram(2),
    "default bins": lambda m: tuple(m.histogram(_x(m)).hist.shape),
    "ints": lambda m: m.histogram(m.tensor([1, 2]), 4),
    "zero bins": lambda m: m.histogram(_x(m), 0),
    "range reversed": lambda m: m.histogram(_x(m), 4, range=(3.0, 1.0)),
    "list edges": lambda m: m.histogram(_x(m), [0.0, 1.0, 5.0]),
    "int edges": lambda m: m.histogram(_x(m), m.tensor([0, 1, 5])),
    "float64 edges": lambda m: m.histogram(_x(m), m.tensor([0.0, 1, 3], dtype=m.float64)),
    "weight shape": lambda m: m.histogram(_x(m), 4, weight=m.ones(3)),
    "weight dtype": lambda m: m.histogram(_x(m), 4, weight=m.ones(5, dtype=m.float64)),
    "nan data": lambda m: m.histogram(m.tensor([1.0, float("nan")]), 4),
    "inf data": lambda m: m.histogram(m.tensor([1.0, float("inf")]), 4),
    "inf range": lambda m: m.histogram(_x(m), 2, range=(0.0, float("inf"))),
}


@pytest.mark.parametrize("check", HISTOGRAM.values(), ids=HISTOGRAM.keys())
def test_histogram_as_torch(check: D) -> None:
    assert_same(check)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histograms_of_random_data_match_torch(seed: int, dtype: str) -> None:
    data = np.random.default_rng(seed).normal(size=2000).astype(dtype)
    weights = np.random.default_rng(seed + 10).random(2000).astype(dtype)

    def run(m: Any) -> Any:
        x, w = m.from_numpy(data.copy()), m.from_numpy(weights.copy())
        return (m.histc(x, 37), m.histc(x, 10, -1, 1.5), m.histogram(x, 23),
                m.histogram(x, 8, range=(-1.0, 2.0), weight=w, density=True),
                m.histogram(x, m.from_numpy(np.array([-3, -1, 0, 0.5, 4], dtype=dtype))))

    assert_same(run)


# ---- inference_mode ----------------------------------------------------------------------


def _modes(m: Any) -> tuple[bool, bool]:
    return m.is_inference_mode_enabled(), m.is_grad_enabled()


def _inside(m: Any, *modes: bool) -> Any:
    seen = [_modes(m)]
    x = m.ones(2, requires_grad=True)
    with m.inference_mode(*modes) as entered:
        seen.append(_modes(m))
        y = x * 2
    seen.append(_modes(m))
    return seen, y.requires_grad, entered


def _under_no_grad(m: Any) -> Any:
    with m.no_grad(), m.inference_mode(False):
        return _modes(m)


def _decorated(m: Any) -> Any:
    @m.inference_mode()
    def called(x: Any) -> Any:
        return x * 2, _modes(m)

    @m.inference_mode
    def bare(x: Any) -> Any:
        return x * 2

    x = m.ones(1, requires_grad=True)
    (y, modes), z = called(x), bare(x)
    return y.requires_grad, modes, z.requires_grad, called.__name__, bare.__name__, _modes(m)


def _restored_after_error(m: Any) -> Any:
    try:
        with m.inference_mode():
            raise KeyError("x")
    except KeyError:
        return _modes(m)


INFERENCE: dict[str, D] = {
    "off by default": _modes,
    "on": lambda m: _inside(m),
    "mode=True": lambda m: _inside(m, True),
    "mode=False turns grad on": lambda m: _inside(m, False),
    "mode=False under no_grad": _under_no_grad,
    "decorators": _decorated,
    "restored after an error": _restored_after_error,
}


@pytest.mark.parametrize("check", INFERENCE.values(), ids=INFERENCE.keys())
def test_inference_mode_as_torch(check: D) -> None:
    assert_same(check)


def test_one_inference_mode_object_nests() -> None:
    """torch 2.13 loses track when one object is entered twice; deepgrad keeps a stack."""
    mode = deepgrad.inference_mode()
    with mode:
        with mode:
            assert _modes(deepgrad) == (True, False)
        assert _modes(deepgrad) == (True, False)
    assert _modes(deepgrad) == (False, True)


# ---- Size --------------------------------------------------------------------------------

SIZE: dict[str, D] = {
    "list": lambda m: m.Size([2, 3]),
    "tuple": lambda m: m.Size((2, 3)),
    "empty": lambda m: (m.Size(), m.Size([])),
    "negative": lambda m: m.Size([-1]),
    "generator": lambda m: m.Size(x for x in [1, 2]),
    "tensor": lambda m: m.Size(m.tensor([2, 3])),
    "0-d tensors": lambda m: m.Size([m.tensor(2)]),
    "bool": lambda m: m.Size([True]),
    "numel": lambda m: (m.Size([2, 3]).numel(), m.Size([]).numel(), m.Size([2, 0]).numel()),
    "slice is a Size": lambda m: (m.Size([2, 3, 4])[1:], type(m.Size([2, 3])[1:]) is m.Size),
    "item is an int": lambda m: (m.Size([2, 3])[0], type(m.Size([2, 3])[0]) is int),
    "add": lambda m: (m.Size([2, 3]) + (4,), type(m.Size([2]) + (4,)) is m.Size),
    "radd": lambda m: ((4,) + m.Size([2, 3]), type((4,) + m.Size([2])) is m.Size),
    "add Sizes": lambda m: type(m.Size([2]) + m.Size([1])) is m.Size,
    "mul": lambda m: (m.Size([2]) * 2, type(2 * m.Size([2])) is m.Size),
    "tuple equality": lambda m: (m.Size([2, 3]) == (2, 3), m.Size([2, 3]) == [2, 3]),
    "tuple hash": lambda m: hash(m.Size([2, 3])) == hash((2, 3)),
    "is a tuple": lambda m: isinstance(m.Size([1]), tuple),
    "count": lambda m: m.Size([1, 2, 1]).count(1),
    "factory takes it": lambda m: tuple(m.zeros(m.Size([2, 3])).shape),
    "add a list": lambda m: m.Size([1]) + [2],
    "float item": lambda m: m.Size([2.5]),
    "str item": lambda m: m.Size(["2"]),
    "not iterable": lambda m: m.Size(3),
    "too large": lambda m: m.Size([2**70]),
}


@pytest.mark.parametrize("check", SIZE.values(), ids=SIZE.keys())
def test_size_as_torch(check: D) -> None:
    assert_same(check)


def test_size_prints_its_own_name() -> None:
    """deepgrad.Size([2, 3]), not torch.Size: output never claims to be torch's."""
    torch = torch_or_skip()
    assert repr(deepgrad.Size([2, 3])) == str(deepgrad.Size([2, 3])) == "deepgrad.Size([2, 3])"
    assert repr(torch.Size([2, 3])).replace("torch", "deepgrad") == repr(deepgrad.Size([2, 3]))
    assert deepgrad.Size([2, 3]) == torch.Size([2, 3])


# ---- factories: dtype=, requires_grad=, out= and argument checks --------------------------

FACTORIES: dict[str, D] = {
    "zeros": lambda m: m.zeros(2, 3),
    "zeros tuple": lambda m: m.zeros((2, 3)),
    "zeros list": lambda m: m.zeros([2, 3]),
    "zeros 0-d": lambda m: (m.zeros([]), m.zeros(())),
    "zeros int dtype": lambda m: m.zeros(2, dtype=m.int64),
    "zeros tensor size": lambda m: m.zeros(m.tensor(3)),
    "zeros numpy size": lambda m: m.zeros(np.int64(3)),
    "ones bool": lambda m: m.ones(2, dtype=m.bool),
    "empty int32": lambda m: (m.empty(2, 3, dtype=m.int32).dtype, m.empty(2, 3).shape),
    "requires_grad": lambda m: m.zeros(2, requires_grad=True),
    "requires_grad int": lambda m: m.zeros(2, dtype=m.int64, requires_grad=True),
    "requires_grad bool": lambda m: m.ones(2, dtype=m.bool, requires_grad=True),
    "no size": lambda m: m.zeros(),
    "float size": lambda m: m.zeros(2.5),
    "bool size": lambda m: m.zeros(True),
    "negative size": lambda m: m.zeros(-1),
    "two tuples": lambda m: m.zeros((2, 3), (4,)),
    "full dtypes": lambda m: (m.full((2,), True), m.full((2,), 3), m.full((2,), 3.0)),
    "full 0-d": lambda m: m.full((), 1.0),
    "full list size": lambda m: m.full([2, 3], 1),
    "full int size": lambda m: m.full(2, 3.0),
    "full positional dtype": lambda m: m.full((2,), 1, m.float32),
    "full requires_grad": lambda m: m.full((2,), 1.0, requires_grad=True),
    "like": lambda m: (m.zeros_like(m.ones(2, dtype=m.int64)), m.ones_like(m.zeros(2, 2))),
    "like dtype": lambda m: m.zeros_like(m.ones(2), dtype=m.float64),
    "full_like": lambda m: (m.full_like(m.ones(2), 2, dtype=m.int64), m.full_like(m.ones(2), 7)),
    "full_like requires_grad": lambda m: m.full_like(m.ones(2), 2, requires_grad=True),
    "ones_like int requires_grad": lambda m: m.ones_like(m.ones(2, dtype=m.int64),
                                                         requires_grad=True),
    "empty_like": lambda m: (m.empty_like(m.ones(2, 3)).shape, m.empty_like(m.ones(2)).dtype),
    "arange": lambda m: (m.arange(5), m.arange(1, 5, 2), m.arange(5, 0, -1)),
    "arange floats": lambda m: (m.arange(0, 1, 0.25), m.arange(5.0), m.arange(1, 2.5, 0.5)),
    "arange dtype": lambda m: m.arange(5, dtype=m.float32),
    "arange keywords": lambda m: (m.arange(start=1, end=3), m.arange(end=3)),
    "arange tensor": lambda m: m.arange(m.tensor(3)),
    "arange length": lambda m: tuple(m.arange(0, 1, 0.1).shape),
    "arange requires_grad": lambda m: m.arange(5.0, requires_grad=True),
    "arange int requires_grad": lambda m: m.arange(5, requires_grad=True),
    "arange zero step": lambda m: m.arange(0, 5, 0),
    "arange wrong sign": lambda m: m.arange(5, 0),
    "arange inf": lambda m: m.arange(float("inf")),
    "linspace": lambda m: (m.linspace(0, 1, 5), m.linspace(0, 1, 1), m.linspace(0, 1, 0)),
    "linspace steps keyword": lambda m: m.linspace(0, 1, steps=3),
    "linspace int dtype": lambda m: m.linspace(0, 10, 5, dtype=m.int64),
    "linspace negative steps": lambda m: m.linspace(0, 1, -1),
    "linspace no steps": lambda m: m.linspace(0, 1),
    "eye": lambda m: (m.eye(2, 3), m.eye(2, dtype=m.int64), m.eye(0)),
    "eye requires_grad": lambda m: m.eye(2, requires_grad=True),
    "eye negative": lambda m: m.eye(-1),
    "eye float": lambda m: m.eye(2.5),
    "rand dtypes": lambda m: (m.rand(2).dtype, m.rand(2, dtype=m.float64).dtype),
    "rand shapes": lambda m: (m.rand((2, 3)).shape, m.rand([2, 3]).shape,
                              m.rand(m.Size([2, 3])).shape),
    "rand requires_grad": lambda m: m.rand(2, requires_grad=True).requires_grad,
    "rand int": lambda m: m.rand(2, dtype=m.int64),
    "randn int": lambda m: m.randn(2, dtype=m.int64),
    "rand negative": lambda m: m.rand(-1),
    "rand_like dtype": lambda m: m.rand_like(m.zeros(2), dtype=m.float64).dtype,
    "randn_like int": lambda m: m.randn_like(m.zeros(2, dtype=m.int64)),
    "randn_like requires_grad": lambda m: m.randn_like(m.zeros(2),
                                                       requires_grad=True).requires_grad,
    "randint forms": lambda m: [tuple(t.shape) for t in (
        m.randint(10, (3,)), m.randint(3, 10, (2, 2)), m.randint(high=3, size=(2,)),
        m.randint(low=1, high=3, size=(2,)), m.randint(3, size=(2,)), m.randint(3, [2]),
        m.randint(3, m.Size([2])), m.randint(0, 3, ()))],
    "randint dtype": lambda m: (m.randint(10, (3,)).dtype,
                                m.randint(0, 10, (2,), dtype=m.float32).dtype),
    "randint range": lambda m: sorted(set(m.randint(3, 7, (500,)).tolist())),
    "randint one value": lambda m: m.randint(1, (3,)),
    "randint large": lambda m: m.randint(0, 2**40, (2,)).dtype,
    "randint int size": lambda m: m.randint(10, 3),
    "randint low >= high": lambda m: m.randint(5, 3, (2,)),
    "randint empty range": lambda m: m.randint(0, (2,)),
    "randint float high": lambda m: m.randint(3.5, (2,)),
    "randint requires_grad": lambda m: m.randint(0, 2, (2,), requires_grad=True),
    "randint float requires_grad": lambda m: m.randint(0, 2, (2,), dtype=m.float32,
                                                       requires_grad=True).requires_grad,
    "randint_like": lambda m: (m.randint_like(m.zeros(2), 2, 5).dtype,
                               m.randint_like(m.zeros(2, dtype=m.int32), 5).dtype,
                               m.randint_like(m.zeros(3), low=2, high=5).shape),
    "randperm": lambda m: (m.randperm(0), m.randperm(5).dtype,
                           sorted(m.randperm(5).tolist())),
    "randperm float": lambda m: m.randperm(4, dtype=m.float32).dtype,
    "randperm negative": lambda m: m.randperm(-1),
    "randperm float n": lambda m: m.randperm(3.0),
    "randperm requires_grad": lambda m: m.randperm(3, requires_grad=True),
}


@pytest.mark.parametrize("check", FACTORIES.values(), ids=FACTORIES.keys())
def test_factory_as_torch(check: D) -> None:
    assert_same(check)


def _into(m: Any, make: Callable[[Any, Any], Any], out: Any) -> Any:
    result = make(m, out)
    return result is out, out


OUT: dict[str, D] = {
    "zeros": lambda m: _into(m, lambda m, o: m.zeros(2, out=o), m.empty(2)),
    "ones into int": lambda m: _into(m, lambda m, o: m.ones(2, out=o), m.empty(2, dtype=m.int64)),
    "full casts": lambda m: _into(m, lambda m, o: m.full((2,), 1.5, out=o),
                                  m.empty(2, dtype=m.int64)),
    "full int into float": lambda m: _into(m, lambda m, o: m.full((2,), 7, out=o), m.empty(2)),
    "arange": lambda m: _into(m, lambda m, o: m.arange(3, out=o), m.empty(3)),
    "linspace": lambda m: _into(m, lambda m, o: m.linspace(0, 1, 3, out=o), m.empty(3)),
    "eye": lambda m: _into(m, lambda m, o: m.eye(2, out=o), m.empty(2, 2)),
    "rand": lambda m: (lambda o: (m.rand(2, out=o) is o, o.shape))(m.empty(2)),
    "randn": lambda m: (lambda o: (m.randn(2, out=o) is o, o.dtype))(m.empty(2)),
    "randint": lambda m: (lambda o: m.randint(5, (2,), out=o) is o)(m.empty(2, dtype=m.int64)),
    "randperm": lambda m: (lambda o: (m.randperm(3, out=o) is o, sorted(o.tolist())))(
        m.empty(3, dtype=m.int64)),
    "strided": lambda m: _into(m, lambda m, o: m.zeros(2, out=o), m.ones(4)[::2]),
    "requires_grad after": lambda m: m.zeros(2, out=m.empty(2), requires_grad=True),
    "dtype mismatch": lambda m: m.zeros(2, dtype=m.float64, out=m.empty(2)),
    "rand into int": lambda m: m.rand(2, out=m.empty(2, dtype=m.int64)),
    "out requires grad": lambda m: m.zeros(2, out=m.empty(2, requires_grad=True)),
    "out not a tensor": lambda m: m.zeros(2, out=[1, 2]),
}


@pytest.mark.parametrize("check", OUT.values(), ids=OUT.keys())
def test_out_as_torch(check: D) -> None:
    assert_same(check)


def test_out_of_another_shape_says_deepgrad_does_not_resize() -> None:
    out = deepgrad.empty(3)
    with pytest.raises(RuntimeError, match="does not resize out="):
        deepgrad.zeros(2, out=out)
    assert out.shape == (3,)
