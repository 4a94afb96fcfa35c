"""N ranks with global batch B against one process with batch B, in float64 (real mpirun).

Each case trains K=4 SGD-momentum steps on MNIST digits
(scripts/equivalence.py): 2 ranks with DistributedDataParallel and batch
16 each, and one plain process (no MPI, no DDP) with batch 32 over the same
sample order. Every step's gradients and the final weights and buffers
must agree within 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mpi_helpers import run_mpi, run_python

TOL = 1e-6
STEPS = 4


def _run(tmp_path: Path, model: str, *extra: str) -> tuple[dict, dict, dict]:
    run_mpi(2, "equivalence.py", "--mode", "ddp", "--model", model, "--steps", str(STEPS),
            "--out", str(tmp_path), *extra)
    run_python("equivalence.py", "--mode", "reference", "--model", model, "--steps",
               str(STEPS), "--world", "2", "--out", str(tmp_path))
    load = lambda name: dict(np.load(tmp_path / name))  # noqa: E731
    return load("rank0.npz"), load("rank1.npz"), load("reference.npz")


def _assert_close(ours: dict, reference: dict, keys: list[str]) -> None:
    for key in keys:
        diff = float(np.max(np.abs(ours[key] - reference[key])))
        assert diff <= TOL, f"{key}: differs from the one-process reference by {diff:.3g}"


@pytest.mark.parametrize("model, extra", [
    ("mlp", ()),
    ("dropout", ()),
    ("bn", ()),
    ("bn", ("--bucket-mb", "0.001")),  # many buckets, reduced at the end
    ("bn", ("--bucket-mb", "0.001", "--overlap")),  # many buckets, each reduced in backward
    ("mlp", ("--overlap",)),
], ids=["mlp", "dropout-seed-per-rank", "syncbatchnorm", "small-buckets",
        "small-buckets-overlap", "mlp-overlap"])
def test_ranks_match_one_process(tmp_path: Path, model: str, extra: tuple[str, ...]) -> None:
    rank0, rank1, reference = _run(tmp_path, model, *extra)
    grads = [k for k in reference if k.startswith("grad")]
    assert len({k.split("/")[0] for k in grads}) == STEPS
    assert all(np.abs(reference[k]).max() > 0 for k in grads if k.endswith("weight"))
    _assert_close(rank0, reference, grads)
    _assert_close(rank0, reference, [k for k in reference if k.startswith("final/")])
    # the ranks stay identical: same averaged gradients, same weights, same buffers
    for key in rank0:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)


def test_dropout_masks_differ_between_ranks(tmp_path: Path) -> None:
    """The reference with both ranks' rows masked by rank 0's generator differs: the ranks
    really draw their own masks (and the comparison above could fail)."""
    rank0, _, _ = _run(tmp_path, "dropout")
    run_python("equivalence.py", "--mode", "reference", "--model", "dropout", "--steps",
               str(STEPS), "--world", "1", "--out", str(tmp_path))
    wrong = dict(np.load(tmp_path / "reference.npz"))
    assert max(float(np.abs(rank0[k] - wrong[k]).max()) for k in wrong) > 1e-3


def test_local_batchnorm_is_torchs_default(tmp_path: Path) -> None:
    """Plain BatchNorm under DDP: each rank normalises with its own shard's statistics,
    rank 0's running statistics are broadcast at every forward, the gradients are the average
    of the shards' own. The reference computes each shard alone from rank 0's buffers."""
    rank0, rank1, reference = _run(tmp_path, "localbn")
    _assert_close(rank0, reference, [k for k in reference if k.startswith(("grad", "final/"))])
    for r, ours in enumerate((rank0, rank1)):
        buffers = dict(np.load(tmp_path / f"reference_buffers{r}.npz"))
        _assert_close(ours, {f"final/{k}": v for k, v in buffers.items()},
                      [f"final/{k}" for k in buffers])
    assert not np.allclose(rank0["final/1.running_mean"], rank1["final/1.running_mean"]), \
        "after the last forward each rank holds its own shard's statistics"
