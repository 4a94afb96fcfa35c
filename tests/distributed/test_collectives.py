"""Collectives and DDP's rules on 2 real ranks (scripts/collectives.py), and the errors a
process without a process group gets."""

from __future__ import annotations

import pytest
from mpi_helpers import run_mpi

import deepgrad
import deepgrad.distributed as dist
from deepgrad import nn


def test_collectives_and_ddp_rules_on_two_ranks() -> None:
    result = run_mpi(2, "collectives.py", timeout=120)
    for rank in (0, 1):
        assert f"rank {rank}: 23 checks passed" in result.stdout, result.stdout


def test_without_a_process_group_the_calls_say_what_to_do() -> None:
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(deepgrad.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.DistributedDataParallel(nn.Linear(2, 2))


def test_init_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="init_method"):
        dist.init_process_group(init_method="tcp://10.0.0.1:23456")
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group(timeout=0)


def test_rank_seed_keeps_rank_0_and_separates_the_others() -> None:
    assert dist.rank_seed(7, 0) == 7
    seeds = {dist.rank_seed(s, r) for s in range(4) for r in range(4)}
    assert len(seeds) == 16  # seed + rank would collide (1, 0) with (0, 1)
    assert dist.rank_seed(7, 3) == dist.rank_seed(7, 3) < 2**63
    with pytest.raises(ValueError, match="rank must be >= 0"):
        dist.rank_seed(0, -1)


def test_sync_batchnorm_without_a_group_is_batchnorm() -> None:
    deepgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    weight, mean = model[1].weight, model[1].running_mean
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(synced[1], nn.SyncBatchNorm)
    assert synced[1].weight is weight and synced[1].running_mean is mean
    x = deepgrad.randn(8, 3)
    plain = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    plain.load_state_dict(synced.state_dict())
    assert deepgrad.allclose(synced(x), plain(x))
    assert deepgrad.allclose(synced[1].running_mean, plain[1].running_mean)
