"""The lab: train, record and show experiments on deepgrad models.

``fit`` is the Keras-style entry point (a plain PyTorch loop inside, in
``Trainer``); ``evaluate`` and ``predict`` measure and apply a model;
``deepgrad.lab.registry`` names the losses, optimizers, schedulers and
metrics (with their directions); ``RunFolder`` names a run's files;
``deepgrad.lab.metrics`` holds the NumPy metrics, ``deepgrad.lab.callbacks``
the callbacks, ``deepgrad.lab.runs`` reads run folders back; ``show`` puts a
run's report inline in a notebook (``deepgrad.lab.live`` draws ``fit``'s live curves).
"""

from __future__ import annotations

from deepgrad.lab import callbacks, metrics
from deepgrad.lab.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    NaNGuard,
)
from deepgrad.lab.fit import evaluate, fit, predict
from deepgrad.lab.history import History
from deepgrad.lab.loggers import JsonlLogger, TensorBoardLogger
from deepgrad.lab.run_folder import RunFolder
from deepgrad.lab.runs import Run, list_runs, load_run
from deepgrad.lab.show import InlineReport, inline_report, show
from deepgrad.lab.trainer import Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "InlineReport",
    "JsonlLogger",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "NaNGuard",
    "Run",
    "RunFolder",
    "TensorBoardLogger",
    "Trainer",
    "callbacks",
    "evaluate",
    "fit",
    "inline_report",
    "list_runs",
    "load_run",
    "metrics",
    "predict",
    "show",
]
