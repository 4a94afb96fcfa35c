"""The README's code runs as written, and its set-up block is exactly two commands."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_setup_block_is_two_commands() -> None:
    text = README.read_text()
    first = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first is not None
    lines = [line for line in first.group(1).splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[0].startswith("pip install -e") and lines[1].startswith("pytest")


def test_tiny_mlp_example_learns_moons() -> None:
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    accuracy = float(re.search(r"accuracy ([0-9.]+)", out.getvalue()).group(1))
    assert accuracy >= 0.97
