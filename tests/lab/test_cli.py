"""The deepgrad command through a subprocess: train on the sample, eval, runs, summary, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgrad.cli import main

ROOT = Path(__file__).resolve().parents[2]


def deepgrad(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DEEPGRAD_DEBUG": ""}
    return subprocess.run(
        [sys.executable, "-m", "deepgrad.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2 and one clear line on stderr: no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deepgrad: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_import_is_light() -> None:
    """`deepgrad --help` must answer at once: the parser does not import the lab or nn."""
    code = (
        "import sys, deepgrad.cli; deepgrad.cli.build_parser(); "
        "print(any(m.startswith(('deepgrad.nn', 'deepgrad.lab', 'deepgrad.data', 'yaml')) "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("command", [[], ["train"], ["eval"], ["runs"], ["summary"], ["config"]])
def test_help_has_examples(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "deepgrad " in out


def test_train_eval_runs_on_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The main job, shrunk: one short epoch of mnist-cnn on a slice of the embedded sample."""
    result = deepgrad(
        "train", "mnist-cnn", "--epochs", "1", "--quiet",
        "--set", "data.subset=160", "--set", "data.test_subset=200",
        "--set", "data.val_split=64", "--set", "logging.tensorboard=false",
        "--set", "logging.histograms_every=0",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / result.stdout.strip().splitlines()[-1].split(":")[0]
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("mnist-cnn-")
    assert "test_accuracy" in result.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_completed"] == 1
    assert summary["params"] == 3_274_634
    assert (run_dir / "checkpoints" / "last.safetensors").is_file()
    assert "data:\n  name: mnist-sample" in (run_dir / "config.yaml").read_text()

    result = deepgrad("eval", str(run_dir), "--json", "--checkpoint", "last", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 200 and metrics["checkpoint"] == "last"
    assert metrics["test_accuracy"] == pytest.approx(summary["final"]["test_accuracy"])

    code, out, err = run_main(capsys, "eval", str(run_dir), "--split", "val")
    assert code == 0, err
    assert "val_accuracy" in out

    result = deepgrad("runs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, rule, row = result.stdout.strip().splitlines()
    assert header.split()[:4] == ["run", "model", "status", "epochs"]
    assert row.split()[:4] == [run_dir.name, "mnist-cnn", "completed", "1"]
    assert f"{summary['final']['test_accuracy']:.2%}" in row


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in-process (same code path as the command, without a Python start-up)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_main_error(capsys: pytest.CaptureFixture[str], args: list[str], *fragments: str) -> None:
    code, out, err = run_main(capsys, *args)
    assert_user_error(subprocess.CompletedProcess(args, code, out, err), *fragments)


def test_summary_prints_the_layer_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "summary", "cifar-cnn")
    assert code == 0
    assert "report 001" in out and "537,610" in out and "conv3 (Conv2d)" in out
    code, out, _ = run_main(capsys, "summary", "mlp", "--set", "model.widths=[3072,100,10]")
    assert code == 0 and "308,310" in out
    assert_main_error(capsys, ["summary", "vgg16"], "unknown model 'vgg16'")


def test_models_and_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "models")
    assert code == 0 and "mnist-cnn" in out and "3,274,634" in out
    code, out, _ = run_main(capsys, "config", "mnist-cnn", "--set", "optimizer.lr=0.01")
    assert code == 0 and "lr: 0.01" in out


def test_user_error_from_the_command_is_one_line(tmp_path: Path) -> None:
    assert_user_error(
        deepgrad("train", "mnist-cnnn", cwd=tmp_path),
        "unknown model or config 'mnist-cnnn'",
        "did you mean 'mnist-cnn'",
    )


def test_user_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_main_error(
        capsys, ["train", "mnist-cnn", "--set", "optimiser.lr=0.1"],
        "unknown key 'optimiser'", "allowed:",
    )  # fmt: skip
    assert_main_error(
        capsys, ["train", "mnist-cnn", "--set", "model.kernel=3"],
        "unknown key 'kernel' in model (mnist-cnn)", "kernel_size",
    )  # fmt: skip
    assert_main_error(
        capsys, ["train", "mnist-cnn", "--set", "epochs=many"], "epochs: expected an integer"
    )
    missing = str(tmp_path / "no-data-here")
    assert_main_error(
        capsys, ["train", "mnist-cnn", "--set", "data.name=mnist", "--set", f"data.root={missing}"],
        "MNIST", "--data-dir",
    )  # fmt: skip
    assert_main_error(capsys, ["train", "mnist-cnn", "--data-dir", missing], "no such folder")
    assert_main_error(capsys, ["train", "missing.yaml"], "config file not found")
    assert_main_error(capsys, ["eval", "runs/nothing"], "no such run folder")
    assert_main_error(capsys, ["runs", "nowhere"], "no such folder")
    assert not list(tmp_path.glob("runs/*")), "a failed start must not leave run folders"


def test_train_autoencoder_and_toy_set_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The other two data paths: noisy/clean pairs for the autoencoder, generated moons."""
    out = str(tmp_path / "runs")
    code, stdout, err = run_main(
        capsys, "train", "denoising-ae", "--epochs", "1", "--quiet", "--out", out,
        "--set", "data.subset=128", "--set", "data.test_subset=64",
        "--set", "logging.tensorboard=false",
    )  # fmt: skip
    assert code == 0, err
    assert "test_psnr" in stdout
    run_dir = Path(stdout.strip().splitlines()[-1].split(":")[0])
    pred = np.load(run_dir / "predictions.npz")
    assert pred["noisy"].shape == pred["clean"].shape == (16, 28, 28)
    assert not np.allclose(pred["noisy"], pred["clean"])  # data.noise reached the inputs

    code, stdout, err = run_main(
        capsys, "train", "moons-net", "--epochs", "2", "--quiet", "--out", out,
        "--set", "data.options={n_samples: 200, noise: 0.1, n_test: 100}",
        "--set", "logging.tensorboard=false",
    )  # fmt: skip
    assert code == 0, err
    run_dir = Path(stdout.strip().splitlines()[-1].split(":")[0])
    assert (run_dir / "boundary.npz").is_file()
    assert_main_error(
        capsys,
        ["train", "moons-net", "--set", "data.options={n_samples: 10, noize: 0.1}"],
        "unknown key 'noize' in data.options (moons)",
        "noise",
    )
