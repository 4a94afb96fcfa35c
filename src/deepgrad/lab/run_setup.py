"""The run-folder side of ``fit``: the only place that builds loggers and recorders.

Before training it writes ``config.yaml``, ``graph.dot``, ``model.txt`` and a
"running" ``summary.json``; it gives the Trainer its run callbacks
(checkpoints, metrics.jsonl, TensorBoard, histograms, decision boundary);
after training it writes the test metrics, ``predictions.npz`` and
``activations.npz`` and the final summary. File names are ``RunFolder``'s;
docs/run-folder.md is the contract.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.tensor import Tensor, as_array

from .adapters import peek
from .callbacks import Callback, ModelCheckpoint
from .loggers import JsonlLogger, TensorBoardLogger, import_summary_writer
from .probes import eval_mode
from .recorders import (
    BoundaryRecorder,
    HistogramRecorder,
    autoencoder_arrays,
    classification_arrays,
    write_activations,
    write_predictions,
)
from .run_folder import RunFolder
from .runs import machine_info, versions, write_json, write_yaml
from .trainer import Trainer

#: Seconds of training between step checkpoints when fit is given no step interval: a run
#: killed in its first epoch (the main job is one epoch) loses at most this much.
CHECKPOINT_SECONDS = 30.0


class RunSetup:
    """What ``fit`` writes into one run folder, and the callbacks that write during training."""

    def __init__(self, folder: RunFolder, *, monitor: str, log_every_steps: int,
                 tensorboard: bool, histograms_every_epochs: int,
                 boundary_epochs: Any, checkpoint_every_steps: int | None,
                 checkpoint_every_epochs: int | None, with_checkpoints: bool) -> None:
        self.folder = folder
        self.monitor = monitor
        self.log_every_steps = log_every_steps
        self.want_tensorboard = tensorboard
        self.histograms_every_epochs = histograms_every_epochs
        self.boundary_epochs = boundary_epochs
        self.checkpoint_every_steps = checkpoint_every_steps
        self.checkpoint_every_epochs = checkpoint_every_epochs
        self.with_checkpoints = with_checkpoints
        self.jsonl: JsonlLogger | None = None
        self.tb: TensorBoardLogger | None = None
        self.probe: tuple[np.ndarray, np.ndarray] | None = None

    # ---- during training --------------------------------------------------------------
    def callbacks(self, task: str, sample: tuple[np.ndarray, np.ndarray] | None,
                  train_loader: Any, val_loader: Any) -> list[Callback]:
        """Checkpoints (unless the user gave a ModelCheckpoint), loggers and recorders."""
        out: list[Callback] = []
        if self.with_checkpoints:
            steps = self.checkpoint_every_steps
            out.append(ModelCheckpoint(
                self.folder.checkpoints, monitor=self.monitor,
                every_n_steps=steps or None, every_n_epochs=self.checkpoint_every_epochs,
                every_n_seconds=CHECKPOINT_SECONDS if steps is None else None))
        self.jsonl = JsonlLogger(self.folder.metrics, every_n_steps=self.log_every_steps)
        out.append(self.jsonl)
        if self.want_tensorboard:
            try:
                import_summary_writer()
                self.tb = TensorBoardLogger(self.folder.tensorboard,
                                            every_n_steps=self.log_every_steps)
                out.append(self.tb)
            except ImportError:
                print("fit: tensorboardX is not installed; no TensorBoard files "
                      "(pip install 'deepgrad[lab]')", file=sys.stderr)
        self.probe = peek(val_loader if val_loader is not None else train_loader, 256)
        if self.histograms_every_epochs:
            out.append(HistogramRecorder(self.folder.histograms,
                                         None if self.probe is None else self.probe[0],
                                         every_n_epochs=self.histograms_every_epochs,
                                         tensorboard=self.tb))
        if (task == "classification" and sample is not None and sample[0].ndim == 2
                and sample[0].shape[1] == 2):
            points = peek(train_loader, 2000)
            assert points is not None
            out.append(BoundaryRecorder(self.folder.boundary, points[0], points[1],
                                        epochs=self.boundary_epochs))
        return out

    def close(self) -> None:
        for logger in (self.jsonl, self.tb):
            if logger is not None:
                logger.close()

    # ---- before training --------------------------------------------------------------
    def write_start(self, config: dict[str, Any], model: Any,
                    sample: tuple[np.ndarray, np.ndarray] | None, resumed: bool,
                    loss_fn: Any = None) -> None:
        """config.yaml (kept on resume), graph.dot, graph_trace.json, model.txt and
        TensorBoard samples."""
        if not resumed or not self.folder.config.exists():
            write_yaml(self.folder.config, config)
        if resumed or sample is None:
            return
        self.write_model_files(model, sample[0])
        if loss_fn is not None:
            self.write_graph_trace(model, loss_fn, sample)
        if self.tb is not None and self.probe is not None and self.probe[0].ndim == 4:
            self.tb.add_images("samples", self.probe[0][:16])

    def write_model_files(self, model: Any, sample: np.ndarray) -> None:
        """graph.dot (one forward pass, eval mode so no dropout draws) and model.txt."""
        x = Tensor(as_array(sample[:2]), _copy=False)
        try:
            from deepgrad.viz import to_dot

            was_training = model.training
            model.eval()
            try:
                with autograd.enable_grad():
                    dot = to_dot(model(x), params=dict(model.named_parameters()))
            finally:
                model.train(was_training)
            self.folder.graph.write_text(dot)
            if self.tb is not None:
                self.tb.add_text("graph", dot)
        except Exception as error:  # noqa: BLE001 - a picture must not stop training
            print(f"fit: could not draw the graph ({type(error).__name__}: {error})",
                  file=sys.stderr)
        try:
            from deepgrad.nn.summary import summary

            with eval_mode(model):
                text = str(summary(model, input_data=x, verbose=0))
        except Exception:  # noqa: BLE001 - the repr is a fine fallback
            text = repr(model)
        self.folder.model.write_text(text + "\n")

    def write_graph_trace(self, model: Any, loss_fn: Any,
                          sample: tuple[np.ndarray, np.ndarray]) -> None:
        """graph_trace.json: the sample batch forward and backward with every node's values
        (eval mode; no ``.grad`` touched, no random number drawn)."""
        try:
            from .graph_trace import trace_graph

            write_json(self.folder.graph_trace, trace_graph(model, loss_fn, *sample))
        except Exception as error:  # noqa: BLE001 - a picture must not stop training
            print(f"fit: could not trace the graph ({type(error).__name__}: {error})",
                  file=sys.stderr)

    # ---- after training ---------------------------------------------------------------
    def write_summary(self, trainer: Trainer, *, name: str, model_name: str, status: str,
                      error: str | None, params: int) -> None:
        write_json(self.folder.summary, summary_record(
            trainer, name=name, model_name=model_name, status=status, monitor=self.monitor,
            error=error, params=params))

    def finish(self, trainer: Trainer, test_loader: Any, val_loader: Any, train_loader: Any,
               class_names: list[str] | None) -> None:
        """Test metrics, predictions.npz and activations.npz."""
        if test_loader is not None:
            trainer.test(test_loader)
            source = test_loader
        elif val_loader is not None:
            trainer.evaluate(val_loader, keep_outputs=True, keep_inputs=16)
            source = val_loader
        else:
            source = None
        if source is not None and trainer.last_eval.get("outputs") is not None:
            ev = trainer.last_eval
            if trainer.task == "classification" and ev["targets"] is not None:
                arrays = classification_arrays(ev["outputs"], ev["targets"], class_names,
                                               getattr(source, "dataset", None))
            elif trainer.task == "autoencoder" and ev["inputs"] is not None:
                arrays = autoencoder_arrays(ev["inputs"], ev["targets"], ev["outputs"])
            else:
                arrays = {"outputs": ev["outputs"].astype(np.float32),
                          "targets": np.asarray(ev["targets"])}
            write_predictions(self.folder.predictions, arrays)
        head = peek(source if source is not None else train_loader, 8)
        if head is not None:
            write_activations(self.folder.activations, trainer.model, head[0])


def summary_record(trainer: Trainer, *, name: str, model_name: str, status: str, monitor: str,
                   error: str | None, params: int) -> dict[str, Any]:
    """summary.json's content (docs/run-folder.md)."""
    history = trainer.history
    last = {k: v for k, v in history.last.items() if k not in ("epoch", "step")}
    try:
        best = history.best(monitor) if monitor in history else None
    except ValueError:  # a monitor of unknown direction: no "best" to report
        best = None
    seconds = sum(r.get("time", 0.0) for r in history.epochs)
    samples = sum(r.get("time", 0.0) * r.get("samples_per_sec", 0.0) for r in history.epochs
                  if math.isfinite(r.get("samples_per_sec", math.nan)))
    return {
        "name": name,
        "model": model_name,
        "status": status,
        "epochs_completed": trainer.epoch,
        "steps": trainer.step,
        "params": params,
        "final": {**last, **history.test},
        "best": None if best is None else {"epoch": best["epoch"], "monitor": monitor,
                                           "value": best[monitor]},
        "stopped_early_at": history.stopped_early_at,
        "wall_time": trainer.elapsed(),
        "samples_per_sec": samples / seconds if seconds > 0 else None,
        "versions": versions(),
        "machine": machine_info(),
        "task": trainer.task,
        "error": error,
        "checkpoint": None if trainer.last_checkpoint is None else str(
            Path(trainer.last_checkpoint).name),
    }
