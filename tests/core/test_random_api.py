"""Randomness as torch has it: ``Generator``, ``generator=`` everywhere, ``multinomial``,
``normal`` and ``bernoulli``.

deepgrad's numbers are not torch's (NumPy's PCG64 draws them), so the shared
checks compare shapes, dtypes, errors, determinism by seed and distributions.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad
from api_parity import assert_same
from helpers import torch_or_skip

D = Callable[[Any], Any]
TORCH_DEFAULT_SEED = 67280421310721

# ---- Generator -------------------------------------------------------------------------

GENERATOR: dict[str, D] = {
    "fresh": lambda m: (str(m.Generator().device), m.Generator().initial_seed()),
    "device str": lambda m: str(m.Generator("cpu").device),
    "device kw": lambda m: m.Generator(device=m.device("cpu")).device,
    "cpu:0": lambda m: str(m.Generator("cpu:0").device),
    "cuda": lambda m: m.Generator("cuda"),
    "unknown device": lambda m: m.Generator("foo"),
    "int device": lambda m: m.Generator(3),
    "manual_seed returns self": lambda m: (lambda g: g.manual_seed(3) is g)(m.Generator()),
    "initial_seed": lambda m: m.Generator().manual_seed(3).initial_seed(),
    "negative seed wraps": lambda m: m.Generator().manual_seed(-1).initial_seed(),
    "largest seed": lambda m: m.Generator().manual_seed(2**64 - 1).initial_seed(),
    "seed too large": lambda m: m.Generator().manual_seed(2**64),
    "seed too small": lambda m: m.Generator().manual_seed(-(2**63) - 1),
    "float seed": lambda m: m.Generator().manual_seed(1.5),
    "str seed": lambda m: m.Generator().manual_seed("1"),
    "bool seed": lambda m: m.Generator().manual_seed(True),
    "numpy seed": lambda m: m.Generator().manual_seed(np.int64(4)).initial_seed(),
    "seed()": lambda m: (lambda g: (lambda s: (type(s), s == g.initial_seed()))(g.seed()))(
        m.Generator()),
    "state is uint8 1-D": lambda m: (lambda s: (s.dtype, s.ndim, s.requires_grad))(
        m.Generator().get_state()),
    "set_state returns self": lambda m: (lambda g: g.set_state(g.get_state()) is g)(
        m.Generator()),
    "set_state list": lambda m: m.Generator().set_state([1, 2]),
    "set_state float": lambda m: m.Generator().set_state(m.zeros(45)),
    "set_state short": lambda m: m.Generator().set_state(m.zeros(3, dtype=m.uint8)),
}


@pytest.mark.parametrize("check", GENERATOR.values(), ids=GENERATOR.keys())
def test_generator_as_torch(check: D) -> None:
    assert_same(check)


def test_fresh_generator_has_torchs_default_seed() -> None:
    assert deepgrad.Generator().initial_seed() == TORCH_DEFAULT_SEED
    assert deepgrad.rand(3, generator=deepgrad.Generator()).tolist() == \
        deepgrad.rand(3, generator=deepgrad.Generator()).tolist()


def _replay(m: Any) -> Any:
    g = m.Generator().manual_seed(5)
    state = g.get_state()
    first = m.rand(4, generator=g)
    g.manual_seed(7)
    g.set_state(state)
    return g.initial_seed(), m.equal(first, m.rand(4, generator=g))


def _copied(m: Any, how: Callable[[Any], Any]) -> Any:
    g = m.Generator().manual_seed(11)
    m.rand(2, generator=g)
    twin = how(g)
    return type(twin) is type(g), m.equal(m.rand(5, generator=g), m.rand(5, generator=twin))


def _seeded_like_global(m: Any) -> Any:
    m.manual_seed(3)
    global_draw = m.rand(4)
    return m.equal(global_draw, m.rand(4, generator=m.Generator().manual_seed(3)))


def test_state_and_copies_replay_the_stream() -> None:
    assert_same(_replay)
    assert_same(lambda m: _copied(m, copy.deepcopy))
    assert_same(_seeded_like_global)


def test_pickled_generator_replays_the_stream() -> None:
    g = deepgrad.Generator().manual_seed(11)
    twin = pickle.loads(pickle.dumps(g))
    assert isinstance(twin, deepgrad.Generator) and twin.initial_seed() == 11
    assert deepgrad.equal(deepgrad.rand(5, generator=g), deepgrad.rand(5, generator=twin))


def test_manual_seed_still_drives_the_global_stream_bit_for_bit() -> None:
    """Pins the global stream to NumPy's ``default_rng(seed)`` so a refactor cannot move it."""
    deepgrad.manual_seed(5)
    a = deepgrad.rand(3)
    expected = np.random.default_rng(5).random(3, dtype=np.float64).astype(np.float32)
    assert a.numpy().tolist() == expected.tolist()
    deepgrad.manual_seed(5)
    assert deepgrad.equal(a, deepgrad.rand(3))
    deepgrad.manual_seed(9)
    assert deepgrad.randint(0, 100, (4,)).tolist() == \
        np.random.default_rng(9).integers(0, 100, (4,)).tolist()


def test_a_generator_is_a_numpy_generator_for_the_data_pipeline() -> None:
    """So ``DataLoader(generator=)`` and ``random_split(generator=)`` take it as they are."""
    from deepgrad.data import DataLoader, TensorDataset, random_split

    data = TensorDataset(deepgrad.arange(10))

    def order(seed: int) -> list[int]:
        loader = DataLoader(data, batch_size=10, shuffle=True,
                            generator=deepgrad.Generator().manual_seed(seed))
        return next(iter(loader))[0].tolist()

    assert order(1) == order(1) and sorted(order(1)) == list(range(10))
    parts = random_split(data, [7, 3], generator=deepgrad.Generator().manual_seed(2))
    again = random_split(data, [7, 3], generator=deepgrad.Generator().manual_seed(2))
    assert list(parts[0].indices) == list(again[0].indices) and len(parts[1]) == 3


def test_seed_reseeds_the_global_generator() -> None:
    s = deepgrad.seed()
    assert deepgrad.initial_seed() == s
    a = deepgrad.rand(2)
    deepgrad.manual_seed(s)
    assert deepgrad.equal(a, deepgrad.rand(2))


# ---- generator= on every random function ----------------------------------------------

DRAWS: dict[str, Callable[..., Any]] = {
    "rand": lambda m, g: m.rand(3, generator=g),
    "randn": lambda m, g: m.randn(2, 3, generator=g),
    "randint": lambda m, g: m.randint(0, 9, (5,), generator=g),
    "randperm": lambda m, g: m.randperm(6, generator=g),
    "rand_like": lambda m, g: m.rand_like(m.ones(4), generator=g),
    "randn_like": lambda m, g: m.randn_like(m.ones(4), generator=g),
    "randint_like": lambda m, g: m.randint_like(m.ones(4), 3, 9, generator=g),
    "multinomial": lambda m, g: m.multinomial(m.ones(2, 5), 3, generator=g),
    "multinomial with replacement": lambda m, g: m.multinomial(m.ones(5), 8, True,
                                                               generator=g),
    "normal floats": lambda m, g: m.normal(1.0, 2.0, (4,), generator=g),
    "normal tensors": lambda m, g: m.normal(m.zeros(4), m.ones(4), generator=g),
    "bernoulli": lambda m, g: m.bernoulli(m.full((6,), 0.5), generator=g),
}


def _same_seed_same_draw(m: Any, draw: Callable[..., Any]) -> Any:
    a = draw(m, m.Generator().manual_seed(7))
    b = draw(m, m.Generator().manual_seed(7))
    return m.equal(a, b), a.dtype, tuple(a.shape)


def _leaves_global_alone(m: Any, draw: Callable[..., Any]) -> Any:
    m.manual_seed(0)
    expected = m.rand(3)
    m.manual_seed(0)
    draw(m, m.Generator().manual_seed(1))
    return m.equal(expected, m.rand(3))


def _global_by_default(m: Any, draw: Callable[..., Any]) -> Any:
    m.manual_seed(4)
    a = draw(m, None)
    m.manual_seed(4)
    return m.equal(a, draw(m, None))


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_generator_argument_as_torch(draw: Callable[..., Any]) -> None:
    assert_same(lambda m: _same_seed_same_draw(m, draw))
    assert_same(lambda m: _leaves_global_alone(m, draw))
    assert_same(lambda m: _global_by_default(m, draw))
    assert_same(lambda m: draw(m, 3))  # not a Generator: TypeError


# ---- multinomial -----------------------------------------------------------------------

P3 = [0.1, 0.2, 0.7]
MULTINOMIAL: dict[str, D] = {
    "1-D": lambda m: (lambda s: (s.dtype, tuple(s.shape)))(m.multinomial(m.tensor(P3), 2)),
    "2-D": lambda m: tuple(m.multinomial(m.tensor([P3, P3]), 2).shape),
    "replacement": lambda m: tuple(m.multinomial(m.tensor([P3, P3]), 5, True).shape),
    "float64 weights": lambda m: m.multinomial(m.tensor([3.0, 1.0], dtype=m.float64), 1).dtype,
    "all categories": lambda m: sorted(m.multinomial(m.tensor(P3), 3).tolist()),
    "distinct per row": lambda m: [len(set(r)) for r in
                                   m.multinomial(m.ones(50, 6), 6).tolist()] == [6] * 50,
    "zero weight last": lambda m: m.multinomial(m.tensor([1.0, 0.0, 0.0]), 2).tolist()[0],
    "zero weight never drawn": lambda m: set(
        m.multinomial(m.tensor([0.0, 1.0, 0.0, 3.0]), 2000, True).tolist()) <= {1, 3},
    "one category": lambda m: m.multinomial(m.tensor([1.0, 0.0, 0.0]), 4, True).tolist(),
    "method": lambda m: tuple(m.tensor(P3).multinomial(2).shape),
    "grad input": lambda m: m.multinomial(m.tensor(P3, requires_grad=True), 1).requires_grad,
    "empty rows": lambda m: m.multinomial(m.zeros(0, 3), 1),
    "3-D": lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    "0-D": lambda m: m.multinomial(m.tensor(1.0), 1),
    "int weights": lambda m: m.multinomial(m.tensor([1, 2]), 1),
    "zero samples": lambda m: m.multinomial(m.tensor(P3), 0),
    "negative samples": lambda m: m.multinomial(m.tensor(P3), -1),
    "float samples": lambda m: m.multinomial(m.tensor(P3), 1.0),
    "too many without replacement": lambda m: m.multinomial(m.tensor(P3), 4),
    "no categories": lambda m: m.multinomial(m.zeros(2, 0), 1),
    "negative weight": lambda m: m.multinomial(m.tensor([-1.0, 2.0]), 1),
    "nan weight": lambda m: m.multinomial(m.tensor([float("nan"), 1.0]), 1),
    "inf weight": lambda m: m.multinomial(m.tensor([float("inf"), 1.0]), 1),
    "zero row": lambda m: m.multinomial(m.tensor([[0.0, 0.0], [1.0, 1.0]]), 1),
}


@pytest.mark.parametrize("check", MULTINOMIAL.values(), ids=MULTINOMIAL.keys())
def test_multinomial_as_torch(check: D) -> None:
    assert_same(check)


def _frequencies(draws: Any, n: int) -> list[float]:
    return (np.bincount(np.asarray(draws).reshape(-1), minlength=n) / np.asarray(draws).size
            ).tolist()


def test_multinomial_draws_in_proportion_to_the_weights() -> None:
    """Unnormalized weights; with replacement, and without (first and second draws)."""
    weights = [1.0, 2.0, 7.0]
    with_replacement = deepgrad.multinomial(deepgrad.tensor(weights), 20000, True).tolist()
    np.testing.assert_allclose(_frequencies(with_replacement, 3), [0.1, 0.2, 0.7], atol=0.015)
    pairs = deepgrad.multinomial(deepgrad.tensor([[5.0, 3.0, 2.0]] * 20000), 2).numpy()
    np.testing.assert_allclose(_frequencies(pairs[:, 0], 3), [0.5, 0.3, 0.2], atol=0.015)
    # P(second = j) = sum_i p_i * p_j / (1 - p_i)
    p = np.array([0.5, 0.3, 0.2])
    second = [sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(3)]
    np.testing.assert_allclose(_frequencies(pairs[:, 1], 3), second, atol=0.015)


def test_multinomial_frequencies_match_torchs() -> None:
    def frequencies(m: Any) -> Any:
        draws = m.multinomial(m.tensor([[5.0, 3.0, 2.0]] * 20000), 2).numpy()
        return [_frequencies(draws[:, k], 3) for k in range(2)]

    np.testing.assert_allclose(frequencies(deepgrad), frequencies(torch_or_skip()), atol=0.02)


# ---- normal ------------------------------------------------------------------------------

NORMAL: dict[str, D] = {
    "floats and size": lambda m: (lambda x: (x.dtype, tuple(x.shape)))(m.normal(0., 1., (2, 3))),
    "size keyword": lambda m: tuple(m.normal(0.0, 1.0, size=(2, 3)).shape),
    "int mean and std": lambda m: m.normal(0, 1, (2,)).dtype,
    "dtype": lambda m: m.normal(2.0, 3.0, (2,), dtype=m.float64).dtype,
    "requires_grad": lambda m: m.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad,
    "out": lambda m: (lambda o: m.normal(0.0, 1.0, (2,), out=o) is o)(m.empty(2)),
    "tensor mean": lambda m: tuple(m.normal(m.zeros(3), 1.0).shape),
    "tensor mean only": lambda m: tuple(m.normal(m.zeros(3)).shape),
    "mean keyword": lambda m: tuple(m.normal(mean=m.zeros(2)).shape),
    "tensor std": lambda m: tuple(m.normal(0.0, m.ones(3)).shape),
    "std keyword": lambda m: tuple(m.normal(m.zeros(2), std=m.ones(2)).shape),
    "broadcast": lambda m: tuple(m.normal(m.zeros(2, 1), m.ones(3)).shape),
    "float64 mean": lambda m: m.normal(m.zeros(2, dtype=m.float64), 1.0).dtype,
    "zero std": lambda m: m.normal(m.full((3,), 2.0), 0.0),
    "mismatch": lambda m: m.normal(m.zeros(3), m.ones(4)),
    "negative std": lambda m: m.normal(0.0, -1.0, (2,)),
    "negative std tensor": lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1.0])),
    "no size": lambda m: m.normal(0.0, 1.0),
    "size with tensor": lambda m: m.normal(m.zeros(3), 1.0, (3,)),
    "int tensor": lambda m: m.normal(m.zeros(3, dtype=m.int64), 1.0),
}


@pytest.mark.parametrize("check", NORMAL.values(), ids=NORMAL.keys())
def test_normal_as_torch(check: D) -> None:
    assert_same(check)


def _normal_grads(m: Any) -> Any:
    mean = m.zeros(3, requires_grad=True)
    std = m.ones(3, requires_grad=True)
    y = m.normal(mean, std)
    y.sum().backward()
    return y.requires_grad, mean.grad, std.grad


def test_normal_gives_zero_gradients_as_torch() -> None:
    """torch's normal is a sample, not ``mean + std * eps``: its inputs get zero grads."""
    assert_same(_normal_grads)
    assert_same(lambda m: m.normal(m.zeros(2, requires_grad=True), 1.0).requires_grad)


def test_normal_moments() -> None:
    x = deepgrad.normal(2.0, 3.0, (40000,)).numpy()
    assert abs(x.mean() - 2.0) < 0.05 and abs(x.std() - 3.0) < 0.05
    y = deepgrad.normal(deepgrad.tensor([-5.0, 5.0]).reshape(2, 1).expand(2, 20000),
                        deepgrad.tensor(0.5)).numpy()
    np.testing.assert_allclose(y.mean(axis=1), [-5.0, 5.0], atol=0.02)
    np.testing.assert_allclose(y.std(axis=1), [0.5, 0.5], atol=0.02)


# ---- bernoulli ---------------------------------------------------------------------------

BERNOULLI: dict[str, D] = {
    "certain": lambda m: m.bernoulli(m.tensor([0.0, 1.0, 1.0, 0.0])),
    "float64": lambda m: m.bernoulli(m.tensor([0.0, 1.0], dtype=m.float64)),
    "p keyword": lambda m: tuple(m.bernoulli(m.zeros(2, 3), p=0.5).shape),
    "p certain": lambda m: m.bernoulli(m.zeros(3), 1.0),
    "method": lambda m: m.tensor([0.0, 1.0]).bernoulli(),
    "method p": lambda m: m.zeros(3).bernoulli(0.0),
    "out": lambda m: (lambda o: m.bernoulli(m.ones(2), out=o) is o)(m.empty(2)),
    "p out of range": lambda m: m.bernoulli(m.tensor([0.5]), -1.0),
    "prob above 1": lambda m: m.bernoulli(m.tensor([2.0])),
    "prob below 0": lambda m: m.bernoulli(m.tensor([-0.5])),
    "nan prob": lambda m: m.bernoulli(m.tensor([float("nan")])),
    "int input": lambda m: m.bernoulli(m.tensor([1, 0])),
    "not a tensor": lambda m: m.bernoulli([0.5]),
}


@pytest.mark.parametrize("check", BERNOULLI.values(), ids=BERNOULLI.keys())
def test_bernoulli_as_torch(check: D) -> None:
    assert_same(check)


def _bernoulli_grads(m: Any) -> Any:
    p = m.full((3,), 0.5, requires_grad=True)
    y = m.bernoulli(p)
    y.sum().backward()
    return y.requires_grad, p.grad


def test_bernoulli_rates_and_gradient() -> None:
    assert_same(_bernoulli_grads)
    rates = deepgrad.bernoulli(deepgrad.tensor([0.2, 0.9]).reshape(2, 1).expand(2, 40000))
    np.testing.assert_allclose(rates.numpy().mean(axis=1), [0.2, 0.9], atol=0.01)
    assert abs(deepgrad.bernoulli(deepgrad.zeros(40000), 0.3).numpy().mean() - 0.3) < 0.01
