"""DataLoader: batches, determinism, the fast path, threads, exact mid-epoch resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepgrad import backend
from deepgrad.data import (
    ConcatDataset,
    DataLoader,
    Subset,
    TensorDataset,
    as_arrays,
    mnist_sample,
    random_split,
)
from deepgrad.data import transforms as T

AUG = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])


def _epoch(loader: DataLoader) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in loader]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x1, x2) and np.array_equal(y1, y2)
        for (x1, y1), (x2, y2) in zip(a, b, strict=False)
    )


def _ids(n: int) -> TensorDataset:
    return TensorDataset(np.arange(n), np.arange(n) * 10)


def test_len_and_last_batch() -> None:
    ds = _ids(10)
    assert len(DataLoader(ds, 4)) == 3 and len(DataLoader(ds, 4, drop_last=True)) == 2
    sizes = [len(x) for x, _ in DataLoader(ds, 4, collate_fn=as_arrays)]
    assert sizes == [4, 4, 2]
    assert [len(x) for x, _ in DataLoader(ds, 4, drop_last=True, collate_fn=as_arrays)] == [4, 4]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 17),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_every_sample_once_per_epoch(n: int, batch_size: int, shuffle: bool, drop_last: bool):
    loader = DataLoader(
        _ids(n), batch_size, shuffle=shuffle, drop_last=drop_last, generator=0, collate_fn=as_arrays
    )
    batches = [x for x, _ in loader]
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[: n // batch_size])
    seen = np.concatenate(batches) if batches else np.array([], int)
    assert len(np.unique(seen)) == len(seen)
    assert len(seen) == (n // batch_size * batch_size if drop_last else n)
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_same_seed_same_batches_other_seed_other() -> None:
    ds = mnist_sample(train=False, transform=AUG)

    def run(seed: int):
        backend.manual_seed(seed)
        return _epoch(DataLoader(ds, 50, shuffle=True, collate_fn=as_arrays))

    a, b, c = run(7), run(7), run(8)
    assert _same(a, b) and not _same(a, c)
    assert a[0][0].shape == (50, 1, 28, 28) and a[0][0].dtype == np.float32
    assert a[0][1].dtype == np.int64


def test_epochs_differ_and_generator_argument() -> None:
    loader = DataLoader(
        _ids(20), 20, shuffle=True, generator=np.random.default_rng(1), collate_fn=as_arrays
    )
    first, second = next(iter(loader))[0], next(iter(loader))[0]
    assert sorted(first) == sorted(second) == list(range(20))
    assert not np.array_equal(first, second) and loader.epoch == 1
    again = DataLoader(_ids(20), 20, shuffle=True, generator=1, collate_fn=as_arrays)
    assert np.array_equal(next(iter(again))[0], first)


def test_threads_give_the_same_batches() -> None:
    ds = mnist_sample(train=False, transform=AUG)
    backend.manual_seed(3)
    serial = _epoch(DataLoader(ds, 64, shuffle=True, collate_fn=as_arrays))
    backend.manual_seed(3)
    threaded = _epoch(
        DataLoader(ds, 64, shuffle=True, num_workers=3, prefetch=2, collate_fn=as_arrays)
    )
    assert _same(serial, threaded)


class Counting(TensorDataset):
    def __init__(self, *arrays) -> None:
        super().__init__(*arrays)
        self.items = 0
        self.batches = 0

    def __getitem__(self, index):
        self.items += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batches += 1
        return super().get_batch(indices)


def test_array_backed_fast_path_never_indexes_samples() -> None:
    ds = Counting(np.zeros((100, 4, 4), np.uint8), np.arange(100))
    for _ in DataLoader(Subset(ds, np.arange(90)), 32, shuffle=True, collate_fn=as_arrays):
        pass
    assert ds.items == 0 and ds.batches == 3


class PlainDataset:
    """A map-style dataset with no get_batch: the loader must fall back to items."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, i: int):
        return np.full((2, 2), i, np.float32), i


def test_plain_dataset_slow_path() -> None:
    x, y = next(iter(DataLoader(PlainDataset(), 5, collate_fn=as_arrays)))
    assert x.shape == (5, 2, 2) and x.dtype == np.float32 and y.tolist() == [0, 1, 2, 3, 4]
    assert y.dtype == np.int64


def test_default_collate_gives_tensors_without_copy() -> None:
    tensor_module = pytest.importorskip("deepgrad.tensor")
    ds = mnist_sample(train=False, transform=T.ToTensor())
    x, y = next(iter(DataLoader(ds, 8)))
    assert isinstance(x, tensor_module.Tensor) and isinstance(y, tensor_module.Tensor)
    assert x.data.shape == (8, 1, 28, 28) and x.data.dtype == np.float32
    assert y.data.dtype == np.int64
    raw = np.zeros((3, 2), np.float32)
    from deepgrad.data import to_tensors

    (t,) = to_tensors((raw,))
    assert np.shares_memory(t.data, raw)


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("stop_at", [0, 1, 7, 20])
def test_resume_mid_epoch_sees_the_remaining_batches(num_workers: int, stop_at: int) -> None:
    """Save (loader state + global RNG) after `stop_at` batches of epoch 2, resume elsewhere."""
    ds = mnist_sample(train=False, transform=AUG)

    def make() -> DataLoader:
        return DataLoader(ds, 50, shuffle=True, num_workers=num_workers, collate_fn=as_arrays)

    backend.manual_seed(11)
    loader = make()
    _epoch(loader)  # epoch 0
    it = iter(loader)  # epoch 1
    for _ in range(stop_at):
        next(it)
    state = json.loads(json.dumps(loader.state_dict()))  # must be JSON-able
    rng_state = backend.get_rng_state()
    rest = [(np.asarray(x), np.asarray(y)) for x, y in it]
    following = _epoch(loader)  # epoch 2

    backend.manual_seed(999)  # a fresh process would start elsewhere
    resumed = make()
    resumed.load_state_dict(state)
    backend.set_rng_state(rng_state)
    if rest:  # stopped inside the epoch: first the remaining batches
        assert _same(_epoch(resumed), rest)
    assert _same(_epoch(resumed), following)  # stopped at its end: straight to the next
    assert resumed.epoch == loader.epoch == 2


def test_resume_at_epoch_end_starts_next_epoch() -> None:
    loader = DataLoader(_ids(10), 5, shuffle=True, generator=3, collate_fn=as_arrays)
    _epoch(loader)
    state = loader.state_dict()
    nxt = _epoch(loader)
    other = DataLoader(_ids(10), 5, shuffle=True, collate_fn=as_arrays)
    other.load_state_dict(state)  # carries the loader's own generator state
    assert _same(_epoch(other), nxt)


def test_breaking_out_starts_a_new_epoch_next_time() -> None:
    loader = DataLoader(_ids(10), 2, collate_fn=as_arrays)
    for _ in loader:
        break
    assert loader.state_dict()["position"] == 1
    assert len(_epoch(loader)) == 5 and loader.epoch == 1


def test_load_state_dict_checks_shape_of_the_run() -> None:
    state = DataLoader(_ids(10), 2).state_dict()
    with pytest.raises(ValueError, match="batch_size was 2 when saved but is 3"):
        DataLoader(_ids(10), 3).load_state_dict(state)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ids(3), 0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(_ids(3), 1, num_workers=-1)


def test_loader_stops_threads_when_abandoned() -> None:
    import threading

    before = threading.active_count()
    it = iter(DataLoader(_ids(100), 2, num_workers=2, collate_fn=as_arrays))
    next(it)
    it.close()
    assert threading.active_count() == before


# ------------------------------------------------------------------- subsets
def test_random_split_lengths_and_fractions() -> None:
    ds = _ids(50000)
    train, val = random_split(ds, [45000, 5000], generator=0)
    assert len(train) == 45000 and len(val) == 5000
    both = np.concatenate([train.indices, val.indices])
    assert np.array_equal(np.sort(both), np.arange(50000))
    again, _ = random_split(ds, [0.9, 0.1], generator=0)
    assert np.array_equal(again.indices, train.indices)
    parts = random_split(_ids(10), [0.34, 0.33, 0.33], generator=1)
    assert [len(p) for p in parts] == [4, 3, 3]


def test_random_split_uses_global_seed() -> None:
    backend.manual_seed(5)
    a = random_split(_ids(10), [5, 5])[0].indices
    backend.manual_seed(5)
    assert np.array_equal(a, random_split(_ids(10), [5, 5])[0].indices)


@pytest.mark.parametrize(
    ("lengths", "match"),
    [
        ([45000, 4000], "sum to 49000, but the dataset has 50000"),
        ([0.5, 0.4], "sum to 0.9"),
        ([], "empty"),
    ],
)
def test_random_split_errors(lengths, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        random_split(_ids(50000), lengths)


def test_subset_and_concat_keep_item_semantics() -> None:
    a = TensorDataset(np.arange(5), np.arange(5) + 100)
    b = TensorDataset(np.arange(5, 12), np.arange(5, 12) + 100)
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 12
    idx = np.array([11, 0, 6, 4, 5])
    x, y = cat.get_batch(idx)
    assert x.tolist() == idx.tolist() and y.tolist() == (idx + 100).tolist()
    assert cat[7] == (7, 107) and cat[-1][0] == 11
    sub = Subset(cat, [3, 9])
    assert sub[1][0] == 9 and sub.get_batch(np.array([1, 0]))[0].tolist() == [9, 3]
    assert np.array_equal(sub.arrays()[0], [3, 9])
    with pytest.raises(IndexError, match="index 12 out of range for a dataset of 12"):
        Subset(cat, [12])
    with pytest.raises(IndexError, match="index 2 out of range"):
        sub[2]


def test_subset_forwards_dataset_attributes() -> None:
    ds = mnist_sample(train=False)
    sub = random_split(ds, [900, 100], generator=0)[1]
    assert sub.classes == ds.classes
    x, y = sub[0]
    assert x.shape == (28, 28)


def test_tensor_dataset_accepts_tensor_like_and_checks_lengths() -> None:
    class Like:
        def __init__(self, a) -> None:
            self.data = a

    ds = TensorDataset(Like(np.arange(4)), np.arange(4))
    assert ds[2] == (2, 2)
    with pytest.raises(ValueError, match=r"same length, got \[4, 3\]"):
        TensorDataset(np.arange(4), np.arange(3))
    with pytest.raises(TypeError, match="must be an int"):
        ds[1.5]  # type: ignore[index]
