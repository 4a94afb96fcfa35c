"""The higher-order examples run as a user runs them, and do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "higher_order"


def _run(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_newton_converges_quadratically() -> None:
    out = _run("newton.py")
    assert "x = 0.930402926555852" in out  # the minimum, to every printed digit
    norms = [float(line.split(":")[1]) for line in out.splitlines()
             if line.strip().startswith("step") and "x =" not in line]
    assert norms[-1] < 1e-12 and norms[4] < norms[3] ** 1.5  # the digits double


def test_tanh_derivatives_are_drawn(tmp_path: Path) -> None:
    out = _run("tanh_derivatives.py", str(tmp_path))
    assert out.count("max |autograd - closed form|") == 4
    assert (tmp_path / "tanh_derivatives.png").stat().st_size > 10_000
    sizes = []
    for k in range(1, 5):
        svg = (tmp_path / f"tanh_grad_{k}.svg").read_text()
        assert svg.startswith("<svg") and "TanhBackward" in svg
        sizes.append(svg.count("Backward"))
    assert sizes == sorted(sizes) and sizes[3] > sizes[0]  # each order's graph is bigger


def test_gradient_penalty_trains_a_critic_and_matches_torch() -> None:
    out = _run("gradient_penalty.py", "--steps", "40")
    assert "against PyTorch: max |difference|" in out
    last = [line for line in out.splitlines() if line.startswith("step")][-1]
    norm = float(last.split("interpolates = ")[1].split(",")[0])
    assert 0.8 < norm < 1.3


def test_hvp_matches_finite_difference() -> None:
    out = _run("hvp_mlp.py")
    assert out.count("vs finite difference") == 4
