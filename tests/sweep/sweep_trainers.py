"""Trainers for the sweep tests: the real ``train``, except for settings that fail on purpose.

A sweep file names one with ``trainer: sweep_trainers:train``; the worker
imports it by name (the tests folder is on the worker's ``sys.path``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any


def train(config: dict[str, Any], **kwargs: Any) -> Path:
    """``model.hidden`` 5 raises, 7 kills its own process with SIGKILL; others train."""
    hidden = config["model"].get("hidden")
    if hidden == 5:
        raise RuntimeError("boom: hidden=5 fails on purpose")
    if hidden == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    from deepgrad.lab.experiment import train as real_train

    return real_train(config, **kwargs)
