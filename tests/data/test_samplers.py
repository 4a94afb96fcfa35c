"""Samplers, IterableDataset and the DataLoader's sampler arguments, against torch.utils.data.

What is deterministic runs the same code on ``torch.utils.data`` and
``deepgrad.utils.data`` and compares (orders, batches, lengths, error
types). What is random is checked for its properties: repeatable by seed,
permutations, counts and frequencies within stated tolerances, laziness,
and exact mid-epoch resume through the DataLoader.
"""

from __future__ import annotations

import collections
import json
import math
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import deepgrad as dg
import deepgrad.utils.data as D
from deepgrad import backend
from deepgrad.data import (
    BatchSampler,
    DataLoader,
    IterableDataset,
    RandomSampler,
    Sampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    as_arrays,
    default_collate,
    get_worker_info,
)
from helpers import torch_or_skip

SIGMAS = 5.0  # statistical checks: a count may stray this many standard deviations


def _libs() -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(tensor module, data module) for deepgrad and for torch."""
    torch = torch_or_skip()
    return (dg, D), (torch, torch.utils.data)


def _plain(batch: Any) -> Any:
    """A batch as nested lists of (dtype name, values), comparable across the two libraries."""
    if isinstance(batch, tuple | list):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if hasattr(batch, "detach"):
        array = batch.detach().numpy()
        return (str(array.dtype), array.shape, array.tolist())
    return batch


def _same_on_both(fn: Callable[[Any, Any], Any]) -> Any:
    ours, theirs = (fn(T, data) for T, data in _libs())
    assert ours == theirs
    return ours


def _pairs(T: Any, data: Any, n: int = 10) -> Any:
    x = T.tensor(np.arange(2 * n, dtype=np.float32).reshape(n, 2))
    return data.TensorDataset(x, T.tensor(np.arange(n) * 10))


# ------------------------------------------------------ deterministic samplers
@pytest.mark.parametrize("n", [0, 1, 7, 12])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_and_batch_sampler_match_torch(n: int, batch_size: int, drop_last: bool
                                                  ) -> None:
    def run(T: Any, data: Any) -> Any:
        seq = data.SequentialSampler(range(n))
        batches = data.BatchSampler(seq, batch_size, drop_last)
        over_list = data.BatchSampler(list(range(100, 100 + n)), batch_size, drop_last)
        return list(seq), len(seq), list(batches), len(batches), list(over_list)

    _same_on_both(run)


def test_sampler_lengths_match_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        ds = list(range(10))
        samplers = [
            data.RandomSampler(ds),
            data.RandomSampler(ds, num_samples=25),
            data.RandomSampler(ds, replacement=True, num_samples=3),
            data.SubsetRandomSampler([4, 2, 9]),
            data.WeightedRandomSampler([0.1, 0.9, 2.0], 7),
            data.WeightedRandomSampler([0.1, 0.9, 2.0], 2, replacement=False),
        ]
        lengths = [len(s) for s in samplers]
        lengths += [len(data.BatchSampler(s, 4, d)) for s in samplers for d in (False, True)]
        return lengths

    _same_on_both(run)


def test_random_samplers_without_replacement_draw_a_permutation_as_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        chained = collections.Counter(data.RandomSampler(range(4), num_samples=10))
        return (sorted(data.RandomSampler(range(9))), sorted(data.SubsetRandomSampler([5, 1, 7])),
                sorted(chained.values()), len(list(data.RandomSampler(range(9), num_samples=4))))

    assert _same_on_both(run)[2] == [2, 2, 3, 3]  # two full permutations, then half of one


def test_subclassing_the_generic_base_as_torch() -> None:
    class Reverse(Sampler[int]):
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self) -> Iterator[int]:
            return iter(range(self.n - 1, -1, -1))

        def __len__(self) -> int:
            return self.n

    batches = [y.numpy().tolist() for _, y in DataLoader(_pairs(dg, D, 5), 2, sampler=Reverse(5))]
    assert batches == [[40, 30], [20, 10], [0]]
    with pytest.raises(NotImplementedError):
        iter(Sampler())


# ---------------------------------------------------------------- the errors
ERRORS: list[tuple[str, Callable[[Any, Any, Any], Any]]] = [
    ("random num_samples 0", lambda T, d, ds: d.RandomSampler([])),
    ("random num_samples float", lambda T, d, ds: d.RandomSampler(ds, num_samples=2.0)),
    ("random replacement int", lambda T, d, ds: d.RandomSampler(ds, replacement=1)),
    ("weighted num_samples 0", lambda T, d, ds: d.WeightedRandomSampler([1.0], 0)),
    ("weighted replacement int", lambda T, d, ds: d.WeightedRandomSampler([1.0], 2, 1)),
    ("weighted 2-d", lambda T, d, ds: d.WeightedRandomSampler([[1.0, 2.0]], 2)),
    ("weighted zero sum", lambda T, d, ds: list(d.WeightedRandomSampler([0.0, 0.0], 2))),
    ("weighted negative", lambda T, d, ds: list(d.WeightedRandomSampler([-1.0, 2.0], 2))),
    ("weighted nan", lambda T, d, ds: list(d.WeightedRandomSampler([float("nan"), 1.0], 2))),
    ("weighted too many", lambda T, d, ds: list(d.WeightedRandomSampler([1.0, 2.0], 3, False))),
    ("batch size 0", lambda T, d, ds: d.BatchSampler(range(3), 0, False)),
    ("batch size bool", lambda T, d, ds: d.BatchSampler(range(3), True, False)),
    ("batch drop_last int", lambda T, d, ds: d.BatchSampler(range(3), 2, 1)),
    ("len of a len-less sampler", lambda T, d, ds: len(d.BatchSampler(iter([1, 2]), 2, False))),
    ("sampler and shuffle",
     lambda T, d, ds: d.DataLoader(ds, shuffle=True, sampler=d.SequentialSampler(ds))),
    ("batch_sampler and batch_size", lambda T, d, ds: d.DataLoader(ds, 2, batch_sampler=[[0]])),
    ("batch_sampler and batch_size None",
     lambda T, d, ds: d.DataLoader(ds, None, batch_sampler=[[0]])),
    ("batch_sampler and shuffle",
     lambda T, d, ds: d.DataLoader(ds, shuffle=True, batch_sampler=[[0]])),
    ("batch_sampler and sampler",
     lambda T, d, ds: d.DataLoader(ds, sampler=[0], batch_sampler=[[0]])),
    ("batch_sampler and drop_last",
     lambda T, d, ds: d.DataLoader(ds, drop_last=True, batch_sampler=[[0]])),
    ("batch_size None and drop_last", lambda T, d, ds: d.DataLoader(ds, None, drop_last=True)),
    ("prefetch_factor without workers", lambda T, d, ds: d.DataLoader(ds, prefetch_factor=2)),
    ("prefetch_factor negative",
     lambda T, d, ds: d.DataLoader(ds, num_workers=1, prefetch_factor=-1)),
    ("persistent without workers",
     lambda T, d, ds: d.DataLoader(ds, persistent_workers=True)),
    ("negative timeout", lambda T, d, ds: d.DataLoader(ds, timeout=-1)),
    ("context without workers",
     lambda T, d, ds: d.DataLoader(ds, multiprocessing_context="spawn")),
    ("bad start method",
     lambda T, d, ds: d.DataLoader(ds, num_workers=1, multiprocessing_context="bogus")),
    ("len of a loader over a len-less sampler",
     lambda T, d, ds: len(d.DataLoader(ds, sampler=iter(range(3))))),
]


@pytest.mark.parametrize(("case", "make"), ERRORS, ids=[case for case, _ in ERRORS])
def test_errors_match_torch(case: str, make: Callable[[Any, Any, Any], Any]) -> None:
    caught = []
    for T, data in _libs():
        with pytest.raises(Exception) as info:
            make(T, data, _pairs(T, data))
        caught.append(info.value)
    ours, theirs = caught
    assert type(ours) is type(theirs), (case, ours, theirs)
    # torch's words (quotes and type names aside), then, where we add one, the remedy
    assert str(theirs).split(" (")[0].replace("'", "") in str(ours).replace("'", ""), case


# ----------------------------------------------------- the DataLoader, as torch
def test_loader_lengths_match_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        ds = _pairs(T, data, 10)
        loaders = [
            data.DataLoader(ds, 3),
            data.DataLoader(ds, 3, drop_last=True),
            data.DataLoader(ds, None),
            data.DataLoader(ds, 4, sampler=data.SubsetRandomSampler([1, 2, 3, 4, 5])),
            data.DataLoader(ds, 4, sampler=data.SubsetRandomSampler([1, 2, 3, 4, 5]),
                            drop_last=True),
            data.DataLoader(ds, 4, sampler=data.RandomSampler(ds, True, 11)),
            data.DataLoader(ds, None, sampler=data.RandomSampler(ds, True, 11)),
            data.DataLoader(ds, batch_sampler=[[0, 1], [2], [3, 4, 5]]),
            data.DataLoader(ds, batch_sampler=data.BatchSampler(range(9), 4, False)),
        ]
        return [len(loader) for loader in loaders]

    _same_on_both(run)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_with_sequential_sampler_and_batch_sampler_matches_torch(num_workers: int
                                                                        ) -> None:
    def run(T: Any, data: Any) -> Any:
        ds = _pairs(T, data, 10)
        loaders = [
            data.DataLoader(ds, 3, sampler=data.SequentialSampler(ds), num_workers=num_workers),
            data.DataLoader(ds, 4, sampler=data.SequentialSampler(ds), drop_last=True),
            data.DataLoader(ds, sampler=[7, 2, 2, 9]),
            data.DataLoader(ds, batch_sampler=[[0, 1, 2], [5], [9, 3]], num_workers=num_workers),
            data.DataLoader(ds, batch_sampler=data.BatchSampler(data.SequentialSampler(ds), 4,
                                                                False)),
            data.DataLoader(ds, batch_sampler=data.BatchSampler([8, 6, 4, 2], 3, True)),
        ]
        return [[_plain(b) for b in loader] for loader in loaders]

    _same_on_both(run)


def test_loader_without_batching_matches_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        ds = _pairs(T, data, 4)
        return ([_plain(b) for b in data.DataLoader(ds, batch_size=None)],
                [_plain(b) for b in data.DataLoader(ds, None, sampler=[3, 0])])

    _same_on_both(run)


def test_loader_with_subset_random_sampler_matches_torch_sorted() -> None:
    indices = [11, 3, 17, 5, 8, 0, 19]

    def run(T: Any, data: Any) -> Any:
        loader = data.DataLoader(_pairs(T, data, 20), 3, sampler=data.SubsetRandomSampler(indices))
        ys = [y.detach().numpy() for _, y in loader]
        return [len(y) for y in ys], sorted(np.concatenate(ys).tolist())

    sizes, ys = _same_on_both(run)
    assert sizes == [3, 3, 1] and ys == sorted(10 * i for i in indices)


def test_loader_default_attributes_are_torch_samplers() -> None:
    def run(T: Any, data: Any) -> Any:
        ds = _pairs(T, data)
        plain, shuffled = data.DataLoader(ds, 4), data.DataLoader(ds, 4, shuffle=True)
        custom = data.DataLoader(ds, batch_sampler=[[1]])
        return ([type(x).__name__ for x in (plain.sampler, plain.batch_sampler,
                                            shuffled.sampler, custom.sampler)],
                plain.batch_sampler.batch_size, len(plain.sampler), custom.batch_size,
                list(plain.batch_sampler))

    _same_on_both(run)


def _stream_class(data: Any, T: Any, n: int, with_len: bool) -> Any:
    class Stream(data.IterableDataset):  # type: ignore[name-defined,misc]
        def __iter__(self) -> Iterator[Any]:
            for i in range(n):
                yield T.tensor([i, -i]), i

    if with_len:
        Stream.__len__ = lambda self: n  # type: ignore[attr-defined]
    return Stream()


@pytest.mark.parametrize(("batch_size", "drop_last"),
                         [(None, False)] + [(b, d) for b in (1, 3, 5) for d in (False, True)])
def test_iterable_dataset_batches_match_torch(batch_size: int | None, drop_last: bool) -> None:
    def run(T: Any, data: Any) -> Any:
        loader = data.DataLoader(_stream_class(data, T, 7, True), batch_size,
                                 drop_last=drop_last)
        return len(loader), [_plain(b) for b in loader]

    _same_on_both(run)


def test_iterable_dataset_rules_match_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        stream = _stream_class(data, T, 3, False)
        errors = []
        for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
            with pytest.raises(ValueError) as info:
                data.DataLoader(stream, **kwargs)
            errors.append(str(info.value).split(", but got")[0])
        with pytest.raises(TypeError):
            len(stream)
        with pytest.raises(TypeError):
            len(data.DataLoader(stream, 2))
        chained = [int(x[0]) for x, _ in stream + stream]
        return (errors, chained, isinstance(stream, data.Dataset),
                [_plain(b) for b in data.DataLoader(stream, 2, shuffle=False)])

    _same_on_both(run)


def test_iterable_dataset_is_read_once_whatever_the_workers() -> None:
    """A departure from torch on purpose: its worker processes would each replay the stream."""
    stream = _stream_class(D, dg, 6, True)
    ys = [y.numpy().tolist() for _, y in DataLoader(stream, 4, num_workers=3)]
    assert ys == [[0, 1, 2, 3], [4, 5]] and get_worker_info() is None


def test_default_collate_matches_torch() -> None:
    def run(T: Any, data: Any) -> Any:
        point = collections.namedtuple("point", ["x", "y"])
        samples = [(T.tensor([1.0, 2.0]), 3, 0.5, "a", np.array([1, 2], np.int32)),
                   (T.tensor([4.0, 5.0]), 6, 1.5, "b", np.array([3, 4], np.int32))]
        dicts = [{"a": 1, "b": T.tensor([True])}, {"a": 2, "b": T.tensor([False])}]
        named = data.default_collate([point(1, 2.0), point(3, 4.0)])
        return (_plain(data.default_collate(samples)), _plain(data.default_collate(dicts)),
                type(named).__name__, _plain(list(named)))

    _same_on_both(run)


def test_default_collate_as_collate_fn_means_the_default() -> None:
    ds = _pairs(dg, D, 6)
    ours = [_plain(b) for b in DataLoader(ds, 4, collate_fn=default_collate)]
    assert ours == [_plain(b) for b in DataLoader(ds, 4)]


def test_torch_module_names() -> None:
    torch = torch_or_skip()
    for name in torch.utils.data.sampler.__all__:
        assert getattr(D.sampler, name) is getattr(D, name)
    for name in ("Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler", "BatchSampler", "IterableDataset", "ChainDataset",
                 "default_collate", "default_convert", "get_worker_info"):
        assert hasattr(torch.utils.data, name) and hasattr(D, name), name
    assert D.dataloader.get_worker_info is get_worker_info
    assert D.dataset.IterableDataset is IterableDataset


# ----------------------------------------------------------- random samplers
def _draw(make: Callable[[], Any], seed: int) -> list[int]:
    dg.manual_seed(seed)
    return list(make())


@pytest.mark.parametrize("make", [
    lambda: RandomSampler(range(30)),
    lambda: RandomSampler(range(30), replacement=True, num_samples=50),
    lambda: SubsetRandomSampler(list(range(5, 40))),
    lambda: WeightedRandomSampler([1.0, 2.0, 3.0, 0.5], 40),
    lambda: WeightedRandomSampler(np.arange(1.0, 31.0), 30, replacement=False),
], ids=["random", "replacement", "subset", "weighted", "weighted-no-replacement"])
def test_random_samplers_repeat_by_seed(make: Callable[[], Any]) -> None:
    assert _draw(make, 0) == _draw(make, 0) != _draw(make, 1)
    sampler = make()  # the global generator is read when iteration starts, not at construction
    dg.manual_seed(0)
    assert list(sampler) == _draw(make, 0)
    assert list(sampler) != _draw(make, 0)  # each pass draws afresh


@pytest.mark.parametrize("cls", [RandomSampler, SubsetRandomSampler, WeightedRandomSampler])
def test_random_samplers_take_a_generator(cls: Any) -> None:
    def run(seed: int) -> list[int]:
        g = dg.Generator().manual_seed(seed)
        arg: Any = [1.0] * 20 if cls is WeightedRandomSampler else list(range(20))
        sampler = cls(arg, 20, generator=g) if cls is WeightedRandomSampler else cls(arg,
                                                                                     generator=g)
        return list(sampler) + list(sampler)

    dg.manual_seed(0)
    a = run(3)
    dg.manual_seed(1)  # the global generator plays no part
    assert a == run(3) != run(4) and a[:20] != a[20:]
    with pytest.raises(TypeError, match="generator must be a deepgrad.Generator"):
        cls([1.0], 1, generator=3) if cls is WeightedRandomSampler else cls([1], generator=3)


def test_without_replacement_every_index_once() -> None:
    dg.manual_seed(0)
    assert sorted(RandomSampler(range(1000))) == list(range(1000))
    few = list(RandomSampler(range(1000), num_samples=300))
    assert len(set(few)) == 300
    assert sorted(SubsetRandomSampler(np.arange(0, 100, 3))) == list(range(0, 100, 3))
    order = list(WeightedRandomSampler([0.0, 1.0, 0.0, 5.0, 2.0], 5, replacement=False))
    assert sorted(order) == [0, 1, 2, 3, 4] and set(order[3:]) == {0, 2}  # zero weights last


def _within(counts: np.ndarray, probabilities: np.ndarray, draws: int) -> None:
    expected = draws * probabilities
    sd = np.sqrt(draws * probabilities * (1 - probabilities))
    assert np.all(np.abs(counts - expected) <= SIGMAS * sd + 1e-9), (counts, expected)


def test_with_replacement_counts() -> None:
    dg.manual_seed(0)
    draws = list(RandomSampler(range(10), replacement=True, num_samples=20_000))
    assert len(draws) == 20_000 and min(draws) >= 0 and max(draws) <= 9
    _within(np.bincount(draws, minlength=10), np.full(10, 0.1), 20_000)
    assert len(set(RandomSampler(range(5), replacement=True, num_samples=50))) <= 5  # repeats


def test_weighted_frequencies_follow_the_weights() -> None:
    weights = np.array([1.0, 2.0, 0.0, 7.0, 0.5])
    p = weights / weights.sum()
    draws = 100_000
    dg.manual_seed(0)
    counts = np.bincount(list(WeightedRandomSampler(weights, draws)), minlength=5)
    assert counts[2] == 0
    _within(counts, p, draws)
    # Without replacement: the first pick ∝ w, the second ∝ the remaining weights (torch's rule)
    g = dg.Generator().manual_seed(1)
    passes = 20_000
    picks = np.array([list(WeightedRandomSampler(weights, 2, replacement=False, generator=g))
                      for _ in range(passes)])
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j)
                       for j in range(5)])
    _within(np.bincount(picks[:, 0], minlength=5), p, passes)
    _within(np.bincount(picks[:, 1], minlength=5), second, passes)
    assert np.all(picks[:, 0] != picks[:, 1])


def test_huge_num_samples_is_lazy() -> None:
    ds = _pairs(dg, D, 10)
    tracemalloc.start()
    try:
        begin = time.perf_counter()
        for sampler in (RandomSampler(ds, replacement=True, num_samples=10**10),
                        WeightedRandomSampler(np.ones(10), 10**10)):
            loader = DataLoader(ds, 64, sampler=sampler, collate_fn=as_arrays)
            assert len(sampler) == 10**10 and len(loader) == math.ceil(10**10 / 64)
            it = iter(loader)
            batches = [next(it) for _ in range(5)]
            assert all(len(y) == 64 and 0 <= y.min() and y.max() <= 90 for _, y in batches)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # 10**10 int64 indices would be 80 GB
    assert time.perf_counter() - begin < 30  # generous: it takes milliseconds


# ------------------------------------------------- the DataLoader with samplers
class Counting(TensorDataset):
    def __init__(self, *arrays: Any) -> None:
        super().__init__(*arrays)
        self.items = 0
        self.batches = 0

    def __getitem__(self, index: Any) -> Any:
        self.items += 1
        return super().__getitem__(index)

    def get_batch(self, indices: np.ndarray) -> Any:
        self.batches += 1
        return super().get_batch(indices)


@pytest.mark.parametrize("make", [
    lambda ds: {"sampler": RandomSampler(ds)},
    lambda ds: {"sampler": WeightedRandomSampler(np.ones(len(ds)), 100)},
    lambda ds: {"sampler": SubsetRandomSampler(np.arange(0, 100, 2))},
    lambda ds: {"batch_sampler": BatchSampler(RandomSampler(ds), 32, False)},
], ids=["random", "weighted", "subset", "batch_sampler"])
def test_samplers_keep_the_batch_fast_path(make: Callable[[Any], dict[str, Any]]) -> None:
    ds = Counting(np.arange(100), np.arange(100) * 10)
    kwargs = make(ds)
    loader = DataLoader(ds, **({"batch_size": 32} if "sampler" in kwargs else {}), **kwargs,
                        collate_fn=as_arrays)
    for x, y in loader:
        assert np.array_equal(y, x * 10)
    assert ds.items == 0 and ds.batches == len(loader)


class Keyed:
    """A map-style dataset keyed by strings, without get_batch (torch allows any keys)."""

    def __len__(self) -> int:
        return 3

    def __getitem__(self, key: str) -> Any:
        return np.full(2, ord(key), np.float32), ord(key)


def test_sampler_of_other_keys_takes_the_item_path() -> None:
    x, y = next(iter(DataLoader(Keyed(), 2, sampler=["b", "a"], collate_fn=as_arrays)))
    assert y.tolist() == [98, 97] and x.shape == (2, 2)


def _epoch(loader: DataLoader) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in loader]


def _same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x1, x2) and np.array_equal(y1, y2)
                                    for (x1, y1), (x2, y2) in zip(a, b, strict=True))


SAMPLED: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
    ("random", lambda ds: {"batch_size": 7, "sampler": RandomSampler(ds)}),
    ("random-generator", lambda ds: {"batch_size": 7, "sampler": RandomSampler(
        ds, generator=dg.Generator().manual_seed(5))}),
    ("replacement", lambda ds: {"batch_size": 7, "sampler": RandomSampler(
        ds, replacement=True, num_samples=45)}),
    ("weighted", lambda ds: {"batch_size": 7, "drop_last": True, "sampler": WeightedRandomSampler(
        np.linspace(0.1, 1.0, len(ds)), 60)}),
    ("subset", lambda ds: {"batch_size": 5, "sampler": SubsetRandomSampler(range(0, 50, 2))}),
    ("batch_sampler", lambda ds: {"batch_sampler": BatchSampler(
        RandomSampler(ds, generator=dg.Generator().manual_seed(2)), 6, False)}),
    ("unbatched", lambda ds: {"batch_size": None, "sampler": RandomSampler(ds)}),
]


@pytest.mark.parametrize(("case", "make"), SAMPLED, ids=[c for c, _ in SAMPLED])
def test_sampled_loader_repeats_by_seed_and_threads_agree(
        case: str, make: Callable[[Any], dict[str, Any]]) -> None:
    ds = TensorDataset(np.arange(50), np.arange(50) * 10)

    def run(seed: int, workers: int) -> list[Any]:
        dg.manual_seed(seed)
        loader = DataLoader(ds, **make(ds), num_workers=workers, collate_fn=as_arrays)
        return _epoch(loader) + _epoch(loader)

    serial = run(0, 0)
    assert _same(serial, run(0, 2)) and _same(serial, run(0, 0))
    if "generator" not in case and case != "batch_sampler":
        assert not _same(serial, run(1, 0))


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("stop_at", [0, 1, 3])
@pytest.mark.parametrize(("case", "make"), SAMPLED, ids=[c for c, _ in SAMPLED])
def test_sampled_loader_resumes_mid_epoch_exactly(
        case: str, make: Callable[[Any], dict[str, Any]], stop_at: int, num_workers: int
) -> None:
    """Save loader state + global RNG after `stop_at` batches of epoch 1, resume elsewhere."""
    ds = TensorDataset(np.arange(50), np.arange(50) * 10)

    def fresh() -> DataLoader:
        return DataLoader(ds, **make(ds), num_workers=num_workers, collate_fn=as_arrays)

    backend.manual_seed(11)
    loader = fresh()
    _epoch(loader)
    it = iter(loader)
    for _ in range(stop_at):
        next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    rng_state = backend.get_rng_state()
    rest = [(np.asarray(x), np.asarray(y)) for x, y in it]
    following = _epoch(loader)

    backend.manual_seed(999)  # a fresh process starts elsewhere, its samplers' generators too
    resumed = fresh()
    for _ in range(2):
        for _ in resumed:
            break
    resumed.load_state_dict(state)
    backend.set_rng_state(rng_state)
    assert _same(_epoch(resumed), rest)
    assert _same(_epoch(resumed), following)
    assert resumed.epoch == loader.epoch == 2


def test_iterable_dataset_resumes_by_replaying_the_stream() -> None:
    def fresh() -> DataLoader:
        return DataLoader(_stream_class(D, dg, 10, False), 3, collate_fn=as_arrays)

    loader = fresh()
    it = iter(loader)
    next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    rest = [y.tolist() for _, y in it]
    resumed = fresh()
    resumed.load_state_dict(state)
    assert [y.tolist() for _, y in resumed] == rest == [[3, 4, 5], [6, 7, 8], [9]]
    assert [y.tolist() for _, y in resumed][0] == [0, 1, 2]  # then a new epoch


def test_load_state_dict_refuses_another_order() -> None:
    ds = _pairs(dg, D)
    state = DataLoader(ds, 2).state_dict()
    with pytest.raises(ValueError, match="sampler was None when saved but is RandomSampler"):
        DataLoader(ds, 2, sampler=RandomSampler(ds)).load_state_dict(state)
    sampled = DataLoader(ds, 2, sampler=RandomSampler(ds)).state_dict()
    with pytest.raises(ValueError, match="sampler was RandomSampler when saved but is None"):
        DataLoader(ds, 2).load_state_dict(sampled)


def test_process_options_are_accepted() -> None:
    ds = _pairs(dg, D)
    loader = DataLoader(ds, 4, num_workers=2, pin_memory=True, persistent_workers=True,
                        worker_init_fn=lambda worker_id: None, timeout=30,
                        multiprocessing_context="spawn", prefetch_factor=3)
    assert loader.prefetch == 3 and loader.prefetch_factor == 3 and loader.pin_memory
    assert [_plain(b) for b in loader] == [_plain(b) for b in DataLoader(ds, 4)]
    assert DataLoader(ds, num_workers=1).prefetch_factor == 2
    assert DataLoader(ds).prefetch_factor is None


def test_empty_dataset_with_shuffle_still_iterates() -> None:
    """deepgrad's behaviour before samplers, kept (torch raises ValueError here)."""
    loader = DataLoader(TensorDataset(np.zeros(0)), 4, shuffle=True)
    assert list(loader) == [] and len(loader) == 0
