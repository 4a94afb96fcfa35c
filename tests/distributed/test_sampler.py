"""DistributedSampler: torch's shards, one permutation for all ranks, the loader's resume."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad.data import DataLoader, DistributedSampler, TensorDataset
from deepgrad.utils.data.distributed import DistributedSampler as TorchPath


def _shards(n: int, replicas: int, **kwargs: object) -> list[list[int]]:
    data = list(range(n))
    return [list(DistributedSampler(data, replicas, r, **kwargs)) for r in range(replicas)]


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True),
                                                    (12, 4, False), (2, 5, False)])
def test_shards_match_torchs_without_shuffle(n: int, replicas: int, drop_last: bool) -> None:
    from helpers import torch_or_skip

    torch = torch_or_skip()
    from torch.utils.data.distributed import DistributedSampler as Reference

    ours = _shards(n, replicas, shuffle=False, drop_last=drop_last)
    theirs = [list(Reference(list(range(n)), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    assert ours == theirs
    assert torch is not None


def test_shuffled_shards_partition_one_permutation() -> None:
    shards = _shards(100, 4, seed=5)
    assert sorted(sum(shards, [])) == list(range(100))
    assert all(len(s) == 25 for s in shards)
    # the step-k shards of batch b together are batch k (b * replicas) of the one-rank order
    whole = list(DistributedSampler(list(range(100)), 1, 0, seed=5))
    b = 5
    for k in range(5):
        union = sorted(i for s in shards for i in s[k * b:(k + 1) * b])
        assert union == sorted(whole[k * 4 * b:(k + 1) * 4 * b])


def test_set_epoch_changes_the_order_the_same_way_on_every_rank() -> None:
    samplers = [DistributedSampler(list(range(50)), 2, r, seed=1) for r in range(2)]
    first = [list(s) for s in samplers]
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert first != second
    assert sorted(second[0] + second[1]) == list(range(50))
    assert list(samplers[0]) == second[0]  # a pure function of (seed, epoch)


def test_the_loader_resumes_it_mid_epoch() -> None:
    data = TensorDataset(np.arange(40.0))
    sampler = DistributedSampler(data, 2, 1, seed=3)
    loader = DataLoader(data, batch_size=4, sampler=sampler, generator=7)
    it = iter(loader)
    next(it)
    next(it)
    state = loader.state_dict()
    rest = [b[0].tolist() for b in it]
    again = DataLoader(data, batch_size=4, sampler=DistributedSampler(data, 2, 1, seed=3),
                       generator=7)
    again.load_state_dict(state)
    assert [b[0].tolist() for b in again] == rest


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        DistributedSampler([1, 2], 2, 2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler([1, 2], 0, 0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler([1, 2])
    with pytest.raises(ValueError, match="epoch must be a non-negative int"):
        DistributedSampler([1, 2], 1, 0).set_epoch(-1)
    assert TorchPath is DistributedSampler
