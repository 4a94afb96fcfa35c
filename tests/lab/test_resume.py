"""Exact resume: a run killed with SIGKILL mid-epoch and resumed ends bit-identical to an
uninterrupted one (model with dropout, Adam, a StepLR schedule, shuffling, validation)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

import deepgrad

WORKER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import deepgrad, deepgrad.nn as nn, deepgrad.optim as optim
    from deepgrad import lab
    from deepgrad.data.datasets.toy import make_moons

    mode, run_dir, out, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    hang_at = int(sys.argv[5]) if len(sys.argv) > 5 else -1

    def slow(trainer, logs):
        time.sleep(delay)
        if trainer.step == hang_at:  # never get past the middle of epoch 2 before the kill
            time.sleep(120)

    deepgrad.manual_seed(0)
    X, y = make_moons(300, noise=0.2, random_state=1)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 32),
                          nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    history = lab.fit(model, (X[:230], y[:230]), (X[230:], y[230:]), loss="cross_entropy",
                      optimizer=opt, scheduler=sched, epochs=4, batch_size=16, seed=0,
                      run_dir=run_dir, resume=run_dir if mode == "resume" else None,
                      checkpoint_every_steps=3, log_every_steps=1, verbose=0,
                      callbacks=[lab.LambdaCallback(on_batch_end=slow)])
    np.savez(out, **{k: np.asarray(v) for k, v in model.state_dict().items()})
    print("done", history.last["step"], flush=True)
""")

STEPS_PER_EPOCH = 15  # ceil(230 / 16)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(deepgrad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], env=_env(), text=True,
                          capture_output=True, timeout=120, check=False)


def _last_step(metrics: Path) -> int:
    if not metrics.exists():
        return 0
    steps = [json.loads(line).get("step", 0) for line in metrics.read_text().splitlines()
             if line.endswith("}")]
    return max(steps, default=0)


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    # 1. the uninterrupted reference run
    full = _run(script, "full", str(tmp_path / "full"), str(tmp_path / "full.npz"), "0")
    assert full.returncode == 0, full.stderr

    # 2. a run killed with SIGKILL in the middle of epoch 2, after some checkpoints: the
    # kill lands anywhere from step 20 on, and the worker never passes step 24
    killed_dir = tmp_path / "killed"
    target, hang_at = STEPS_PER_EPOCH + 5, STEPS_PER_EPOCH + 9
    proc = subprocess.Popen([sys.executable, str(script), "first", str(killed_dir),
                             str(tmp_path / "never.npz"), "0.02", str(hang_at)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        while _last_step(killed_dir / "metrics.jsonl") < target:
            assert proc.poll() is None, f"worker ended early: {proc.communicate()}"
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "never.npz").exists()
    checkpoint = deepgrad.load(killed_dir / "checkpoints" / "last.safetensors")
    assert checkpoint["step"] in (18, 21, 24)  # checkpoints every 3 steps
    assert checkpoint["trainer"]["batch_in_epoch"] == checkpoint["step"] - STEPS_PER_EPOCH
    assert checkpoint["loader"]["position"] == checkpoint["trainer"]["batch_in_epoch"]
    summary = json.loads((killed_dir / "summary.json").read_text())
    assert summary["status"] == "running"  # killed: nobody could say otherwise

    # 3. resume in a fresh process and finish
    resumed = _run(script, "resume", str(killed_dir), str(tmp_path / "resumed.npz"), "0")
    assert resumed.returncode == 0, resumed.stderr

    reference, result = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(reference.files) == sorted(result.files)
    for key in reference.files:
        assert np.array_equal(reference[key], result[key]), f"{key} differs after resume"

    # the run folder reads as one run: every step once, every epoch once, completed
    records = [json.loads(line) for line in (killed_dir / "metrics.jsonl").read_text()
               .splitlines()]
    steps = [r["step"] for r in records if r["kind"] == "step"]
    assert steps == list(range(1, 4 * STEPS_PER_EPOCH + 1))
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1, 2, 3, 4]
    full_epochs = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl")
                   .read_text().splitlines() if '"epoch", ' in line or '"kind": "epoch"' in line]
    full_epochs = [r for r in full_epochs if r["kind"] == "epoch"]
    for mine, theirs in zip(epochs, full_epochs, strict=True):
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
            assert mine[key] == theirs[key], key
    assert json.loads((killed_dir / "summary.json").read_text())["status"] == "completed"
