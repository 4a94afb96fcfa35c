"""Runs survive kills, bad files and mistakes: each test reproduces one failure of the old lab.

Real processes and real files throughout: ``deepgrad`` runs as a subprocess,
is stopped with real signals, and its run folders are damaged byte by byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import deepgrad
import deepgrad.nn as nn
import deepgrad.optim as optim
from deepgrad import lab
from deepgrad.data.datasets.toy import make_moons

CONFIG = """\
model: moons-net
data: {{name: moons, val_split: 0.2, options: {{n_samples: {n}, noise: 0.2}}}}
optimizer: {{name: adam, lr: 0.01}}
epochs: {epochs}
batch_size: 8
logging: {{tensorboard: false, histograms_every: 0, progress: false, log_every: 1}}
"""


def _env() -> dict[str, str]:
    src = str(Path(deepgrad.__file__).resolve().parents[1])
    return {**os.environ, "OMP_NUM_THREADS": "1", "DEEPGRAD_DEBUG": "",
            "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepgrad.cli", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2 and one line naming the problem (after any warnings about what was
    tried first); no traceback, no 'internal error'."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith("deepgrad: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("deepgrad: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _config(folder: Path, n: int = 400, epochs: int = 1) -> Path:
    path = folder / "moons.yaml"
    path.write_text(CONFIG.format(n=n, epochs=epochs))
    return path


def _run_dir(stdout: str) -> Path:
    return Path(stdout.strip().splitlines()[-1].split(":")[0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished moons run (2 epochs), copied by the tests that damage it."""
    folder = tmp_path_factory.mktemp("trained")
    result = cli("train", str(_config(folder, epochs=2)), "--out", "runs", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / _run_dir(result.stdout)


def _copy(run: Path, tmp_path: Path, name: str = "moons-net-20250101-000000") -> Path:
    dest = tmp_path / "runs" / name
    shutil.copytree(run, dest)
    return dest


# ---- checkpoints know their model ---------------------------------------------------------
def test_eval_and_resume_refuse_a_config_edited_after_training(trained: Path,
                                                               tmp_path: Path) -> None:
    run = _copy(trained, tmp_path)
    assert cli("eval", str(run), cwd=tmp_path).returncode == 0
    config = run / "config.yaml"
    raw = yaml.safe_load(config.read_text())
    assert raw["model"] == {"name": "moons-net"}
    raw["model"]["activation"] = "relu"  # trained with the default tanh
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert_user_error(cli("eval", str(run), cwd=tmp_path), "was written for model",
                      "activation")
    assert_user_error(cli("train", "--resume", str(run), cwd=tmp_path), "was written for model")


# ---- resume ---------------------------------------------------------------------------------
WORKER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import deepgrad, deepgrad.nn as nn, deepgrad.optim as optim
    from deepgrad import lab
    from deepgrad.lab import run_setup
    from deepgrad.data.datasets.toy import make_moons

    run_setup.CHECKPOINT_SECONDS = 0.05  # the default, time-based interval, made short
    mode, run_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]

    def slow(trainer, logs):
        if mode == "first":
            time.sleep(0.01)
            if trainer.step == 40:  # never finish the one epoch before the kill
                time.sleep(120)

    deepgrad.manual_seed(0)
    X, y = make_moons(600, noise=0.2, random_state=1)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    lab.fit(model, (X[:480], y[:480]), (X[480:], y[480:]), loss="cross_entropy",
            optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=1, batch_size=8,
            seed=0, run_dir=run_dir, resume=run_dir if mode == "resume" else None,
            verbose=0, tensorboard=False, callbacks=[lab.LambdaCallback(on_batch_end=slow)])
    np.savez(out, **{k: np.asarray(v) for k, v in model.state_dict().items()})
""")


def test_a_run_killed_in_its_only_epoch_resumes_bit_identical(tmp_path: Path) -> None:
    """Step checkpoints are on by default: a SIGKILL in epoch 1 of 1 loses only seconds."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, str(script), *args], env=_env(), text=True,
                              capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr

    run("full", str(tmp_path / "full"), str(tmp_path / "full.npz"))
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), "first", str(killed),
                             str(tmp_path / "never.npz")], env=_env())
    last = killed / "checkpoints" / "last.safetensors"
    deadline = time.monotonic() + 60
    try:
        while not (last.exists() and deepgrad.load(last)["step"] >= 20):
            assert proc.poll() is None, "the worker ended before the kill"
            assert time.monotonic() < deadline, "no step checkpoint appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert deepgrad.load(last)["epoch"] == 0  # killed inside the first (and only) epoch
    run("resume", str(killed), str(tmp_path / "resumed.npz"))
    reference, resumed = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    for key in reference.files:
        assert np.array_equal(reference[key], resumed[key]), key


def _moons_fit(run_dir: Path, resume: bool = False, stop_at: int | None = None) -> nn.Module:
    X, y = make_moons(200, noise=0.2, random_state=1)
    X = X.astype(np.float32)
    deepgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))

    def stop(trainer: lab.Trainer, logs: dict) -> None:
        if trainer.step == stop_at:
            raise KeyboardInterrupt

    lab.fit(model, (X[:160], y[:160]), (X[160:], y[160:]), loss="cross_entropy",
            optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=3, batch_size=16,
            seed=0, run_dir=run_dir, resume=run_dir if resume else None, verbose=0,
            tensorboard=False, checkpoint_every_steps=0, checkpoint_every_epochs=1,
            callbacks=[lab.LambdaCallback(on_batch_end=stop)])
    return model


def test_resume_without_last_falls_back_to_the_newest_intact_checkpoint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = _moons_fit(tmp_path / "full")
    run = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        _moons_fit(run, stop_at=25)  # in epoch 3 (10 steps an epoch)
    checkpoints = run / "checkpoints"
    last = checkpoints / "last.safetensors"
    last.write_bytes(last.read_bytes()[:100])  # a kill during its write, or a full disk
    os.utime(checkpoints / "epoch-0001.safetensors", (1, 1))  # older than epoch 2
    resumed = _moons_fit(run, resume=True)
    err = capsys.readouterr().err
    assert "last.safetensors: load:" in err and "resuming from" in err
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value, err_msg=key)
    for name in ("last", "best", "epoch-0001", "epoch-0002", "epoch-0003"):
        (checkpoints / f"{name}.safetensors").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError, match=r"no intact checkpoint in .*checkpoints"):
        _moons_fit(run, resume=True)


HOLDER = textwrap.dedent("""
    import sys, time
    from deepgrad.lab.process import folder_lock
    with folder_lock(sys.argv[1], "test"):
        print("held", flush=True)
        time.sleep(60)
""")


def test_two_processes_cannot_train_one_run_folder(trained: Path, tmp_path: Path) -> None:
    run = _copy(trained, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert_user_error(cli("train", "--resume", str(run), cwd=tmp_path),
                          "another process is using", str(run))
        from deepgrad.lab.process import FolderBusy

        with pytest.raises(FolderBusy):
            _moons_fit(run, resume=True)
    finally:
        holder.kill()
        holder.wait()


MNIST_CONFIG = """\
model: {{name: mlp, widths: [784, 16, 10]}}
data: {{name: mnist, root: {root}, val_split: 16}}
optimizer: {{name: sgd, lr: 0.05}}
epochs: 3
batch_size: 16
logging: {{tensorboard: false, histograms_every: 0, progress: false, checkpoint_steps: 1}}
"""


def test_resume_finds_moved_data_with_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A run whose data set moved (another machine, a cluster's scratch) resumes with
    --data-dir and ends as if never stopped; without it the error says --data-dir."""
    from deepgrad.cli import main
    from deepgrad.lab.config import ConfigError
    from deepgrad.lab.experiment import train
    from idx_files import write_mnist

    monkeypatch.delenv("DEEPGRAD_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    first = write_mnist(tmp_path / "data-first")
    config = tmp_path / "mnist.yaml"
    config.write_text(MNIST_CONFIG.format(root=first))
    full = train(config, out=tmp_path / "full")

    def stop(trainer: lab.Trainer, logs: dict) -> None:
        if trainer.step == 5:  # in epoch 2 of 3 (3 steps an epoch)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, out=tmp_path / "stopped", callbacks=[lab.LambdaCallback(on_batch_end=stop)])
    (stopped,) = (tmp_path / "stopped").iterdir()
    moved = tmp_path / "data-moved"
    first.rename(moved)
    capsys.readouterr()
    assert main(["train", "--resume", str(stopped), "--quiet"]) == 2  # not found: say where
    assert "(use --data-dir DIR or set $DEEPGRAD_DATA)" in capsys.readouterr().err
    assert main(["train", "--resume", str(stopped), "--out", "elsewhere"]) == 2
    assert "drop the other options" in capsys.readouterr().err
    assert main(["train", "--resume", str(stopped), "--data-dir", str(moved), "--quiet"]) == 0
    assert json.loads((stopped / "summary.json").read_text())["status"] == "completed"
    reference = deepgrad.load(full / "checkpoints" / "last.safetensors")["model"]
    resumed = deepgrad.load(stopped / "checkpoints" / "last.safetensors")["model"]
    for key, value in reference.items():
        np.testing.assert_array_equal(np.asarray(resumed[key]), np.asarray(value), err_msg=key)
    with pytest.raises(ConfigError, match="no such folder"):
        train({}, resume=stopped, data_dir=tmp_path / "nowhere")
    sample = train(config, out=tmp_path / "sample",
                   overrides=["data.name=mnist-sample", "data.root=null", "data.subset=32",
                              "epochs=1"])
    with pytest.raises(ConfigError, match="packaged sample 'mnist-sample'"):
        train({}, resume=sample, data_dir=moved)


def test_sigterm_stops_like_ctrl_c_and_the_run_resumes(tmp_path: Path) -> None:
    config = _config(tmp_path, n=10000, epochs=1)  # 1000 steps: time to be stopped
    proc = subprocess.Popen([sys.executable, "-m", "deepgrad.cli", "train", str(config),
                             "--out", "runs", "--checkpoint-every", "20"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    metrics: list[Path] = []
    while not metrics or len(metrics[0].read_text().splitlines()) < 60:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.01)
        metrics = list(tmp_path.glob("runs/*/metrics.jsonl"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    run = metrics[0].parent
    assert f"interrupted; continue with: deepgrad train --resume {run.relative_to(tmp_path)}" \
        in err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "stopped" and "SIGTERM" in summary["error"]
    step = deepgrad.load(run / "checkpoints" / "last.safetensors")["step"]
    assert step >= 40 and step % 20 == 0  # --checkpoint-every 20
    resumed = cli("train", "--resume", str(run), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"


# ---- exit status ------------------------------------------------------------------------------
def test_a_run_failed_by_nanguard_exits_non_zero_and_claims_no_checkpoint(
        tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = cli("train", str(config), "--set", "optimizer.name=sgd",
                 "--set", "optimizer.lr=1e300", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "deepgrad: training failed: NaNGuard" in result.stderr
    assert "no checkpoint had been written yet" in result.stderr
    assert "last good checkpoint" not in result.stderr
    assert "internal error" not in result.stderr
    run = next(tmp_path.glob("runs/*"))
    assert json.loads((run / "summary.json").read_text())["status"] == "failed"
    assert not (run / "checkpoints").exists()


def test_user_mistakes_exit_2_naming_the_file_or_setting(trained: Path, tmp_path: Path) -> None:
    config = _config(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_user_error(cli("train", str(config), "--out", str(blocker), cwd=tmp_path),
                      f"--out {blocker}: cannot write there")
    assert_user_error(cli("train", str(config), "--seed", "-1", cwd=tmp_path), "seed:",
                      "-1")
    assert_user_error(cli("train", str(config), "--set", "model.in_features=3", cwd=tmp_path),
                      "the model does not fit the data", "expected input with 3 features")
    corrupt = _copy(trained, tmp_path, "corrupt-20250101-000000")
    for path in (corrupt / "checkpoints").glob("*.safetensors"):
        data = bytearray(path.read_bytes())
        data[-5] ^= 0xFF  # one flipped byte in the weights
        path.write_bytes(bytes(data))
    assert_user_error(cli("eval", str(corrupt), cwd=tmp_path), "last.safetensors",
                      "CRC-32")
    pickled = _copy(trained, tmp_path, "pickled-20250101-000000")
    import pickle

    for path in (pickled / "checkpoints").glob("*.safetensors"):
        path.write_bytes(pickle.dumps({"model": [1, 2, 3]}))
    assert_user_error(cli("eval", str(pickled), cwd=tmp_path), "is a Python pickle")


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from deepgrad.cli import main
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    sys.exit(main(sys.argv[1:]))
""")


def test_a_full_disk_is_a_one_line_user_error_naming_the_file(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "train", str(config), "--out",
                             "runs", "--set", "model.hidden=400"], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("deepgrad: error: no space left writing runs/moons-net-")
    assert "free some space" in line
    assert not list(tmp_path.glob("runs/*/checkpoints/.*.tmp")), "a temporary file was left"


# ---- damaged run files ------------------------------------------------------------------------
def _damage(run: Path) -> None:
    with open(run / "metrics.jsonl", "ab") as fh:
        fh.write(b"\x00\xff\xfe binary garbage\n")
        fh.write(b'{"kind": "epoch", "epo')  # a torn last line
    (run / "summary.json").write_text('{"status": "compl')
    npz = run / "predictions.npz"
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])


def test_runs_report_and_eval_name_the_damaged_file_and_carry_on(trained: Path,
                                                                 tmp_path: Path) -> None:
    good = _copy(trained, tmp_path, "good-20250101-000000")
    bad = _copy(trained, tmp_path, "bad-20250101-000001")
    _damage(bad)

    listing = cli("runs", "runs", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert good.name in listing.stdout and bad.name in listing.stdout
    assert f"runs/{bad.name}/summary.json: not valid JSON" in listing.stderr
    assert f"runs/{bad.name}/metrics.jsonl: dropped 2 damaged line(s)" in listing.stderr

    report = cli("report", str(bad), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (bad / "report.html").read_text()
    assert "dropped 2 damaged line(s)" in html and "predictions.npz: damaged .npz" in html
    assert "Learning curves" in html  # the readable epochs still make their figures
    assert "predictions.npz" in report.stderr

    assert cli("eval", str(bad), cwd=tmp_path).returncode == 0  # it needs none of them
    (bad / "config.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 not yaml")
    assert_user_error(cli("eval", str(bad), cwd=tmp_path), "config.yaml")
    listing = cli("runs", "runs", cwd=tmp_path)
    assert listing.returncode == 0 and good.name in listing.stdout
    assert "config.yaml" in listing.stderr


def test_a_damaged_best_checkpoint_falls_back_to_last_in_eval(trained: Path,
                                                              tmp_path: Path) -> None:
    run = _copy(trained, tmp_path)
    best = run / "checkpoints" / "best.safetensors"
    best.write_bytes(best.read_bytes()[:64])
    result = cli("eval", str(run), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "best.safetensors" in result.stderr and "using" in result.stderr
    assert json.loads(result.stdout)["checkpoint"] == "last"
