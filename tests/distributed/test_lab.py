"""``mpirun -n 2 deepgrad train CONFIG --distributed``: one run folder written by rank 0, a
killed rank stops the job, ``--resume`` with the same N ends bit-identical to a run never
interrupted, and the wrong N is refused. The model has dropout and batch norm."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mpi_helpers import ROOT, mpi_env, mpirun_command

from deepgrad.serialization import load

CONFIG = """\
name: ddp-mlp
model: {name: mlp, widths: [784, 48, 10], dropout: 0.2, batch_norm: true}
data: {name: mnist-sample, val_split: 0.1, subset: 1200}
optimizer: {name: adam, lr: 0.001}
loss: cross_entropy
epochs: 6
batch_size: 32
seed: 0
logging: {progress: false, tensorboard: false, histograms_every: 0, checkpoint_every: 1}
"""


def _train(n: int, *argv: str) -> subprocess.Popen[str]:
    code = "import sys; from deepgrad.cli import main; sys.exit(main())"
    command = mpirun_command(n, sys.executable, "-c", code, "train", *argv, "--distributed")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=mpi_env(), cwd=ROOT)


def _finish(process: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str]:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"the distributed run hung past {timeout} s:\n{out}")
    return process.returncode, out


def _rank_pid(launcher: int, rank: int) -> int | None:
    """The pid of rank ``rank`` among mpirun's children (from their environment)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher and f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


def _weights(run: Path) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.numpy()) for k, v in
            dict(load(run / "checkpoints" / "last.safetensors"))["model"].items()}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "ddp-mlp.yaml"
    path.write_text(CONFIG)
    return path


def test_kill_a_rank_then_resume_bit_identical(tmp_path: Path, config: Path) -> None:
    code, out = _finish(_train(2, str(config), "--out", str(tmp_path / "whole")))
    assert code == 0, out
    (whole,) = (tmp_path / "whole").iterdir()  # rank 0 alone made the run folder
    assert out.count("test_accuracy") == 1, out  # and printed the result
    reference = _weights(whole)

    process = _train(2, str(config), "--out", str(tmp_path / "killed"))
    deadline = time.monotonic() + 120
    while not list((tmp_path / "killed").glob("*/checkpoints/last.safetensors")):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint came"
        time.sleep(0.05)
    pid = _rank_pid(process.pid, 1)
    assert pid is not None, "rank 1 not found among mpirun's children"
    os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    code, out = _finish(process, timeout=60)
    assert code != 0 and "exited on signal 9 (Killed)" in out, out
    assert time.monotonic() - started < 60
    (killed,) = (tmp_path / "killed").iterdir()
    assert int(dict(load(killed / "checkpoints" / "last.safetensors"))["epoch"]) < 6, \
        "the run finished before the kill; the test proves nothing"

    code, out = _finish(_train(4, "--resume", str(killed)))
    assert code != 0 and "trained on 2 ranks, now there are 4" in out, out
    code, out = _finish(_train(2, "--resume", str(killed)))
    assert code == 0, out
    resumed = _weights(killed)
    assert resumed.keys() == reference.keys()
    for key, value in reference.items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)


FIT_SCRIPT = """\
import sys
import numpy as np
import deepgrad as dg
import deepgrad.distributed as dist
from deepgrad import nn
from deepgrad.lab import fit

rng = np.random.default_rng(0)  # the same data on every rank; the sampler shards it
x = rng.standard_normal((256, 8)).astype(np.float32)
y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
dg.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
start = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
np.save(sys.argv[1] + f"/start{dist.get_rank() if dist.is_initialized() else 0}.npy", start)
fit(model, (x, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=32, seed=0,
    distributed=True, verbose=0)
weights = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
np.save(sys.argv[1] + f"/rank{dist.get_rank()}.npy", weights)
"""


def test_fit_distributed_keeps_the_ranks_in_step(tmp_path: Path) -> None:
    """Each rank trains on its own shard; only averaged gradients keep their weights equal
    (without the DDP wrapper in the training step they drift apart)."""
    script = tmp_path / "fit_ddp.py"
    script.write_text(FIT_SCRIPT)
    command = mpirun_command(2, sys.executable, str(script), str(tmp_path))
    result = subprocess.run(command, capture_output=True, text=True, env=mpi_env(), cwd=ROOT,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    rank0, rank1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    assert np.array_equal(rank0, rank1)
    assert not np.allclose(rank0, np.load(tmp_path / "start0.npy"))  # training happened
