"""``fit``, ``evaluate`` and ``predict``: the Keras-style entry points of the lab.

``fit`` resolves names through the registry, adapts the data (``adapters``),
sets up the run folder (``run_setup``: the only place that builds loggers and
recorders), and hands everything to a ``Trainer``, which knows none of them.
Around the loop it holds the run folder's lock (two processes never write
one run), turns SIGTERM into the same clean stop as Ctrl-C, and records the
final status, so a run that failed says so and names no checkpoint it did
not write.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from deepgrad import backend

from . import registry
from .adapters import as_loader, peek
from .callbacks import Callback, ModelCheckpoint, NaNGuard
from .fingerprint import model_fingerprint
from .history import History
from .live import LiveCurves, progress_callback
from .process import folder_lock, sigterm_as_interrupt
from .progress import ProgressBar
from .run_folder import RunFolder
from .run_setup import RunSetup
from .trainer import Trainer

__all__ = ["fit", "evaluate", "predict", "resume_checkpoint", "config_from_args",
           "check_model_fits", "DataMismatch"]


def fit(model: Any, train_data: Any, val_data: Any = None, *, loss: Any, optimizer: Any,
        epochs: int, batch_size: int = 32, scheduler: Any = None,
        metrics: Iterable[Any] | None = None, callbacks: Iterable[Callback] = (),
        run_dir: str | Path | None = None, seed: int | None = None, test_data: Any = None,
        resume: str | Path | None = None, runs_root: str | Path | None = None,
        name: str | None = None, config: dict[str, Any] | None = None, task: str | None = None,
        class_names: Iterable[str] | None = None, monitor: str | None = None,
        scheduler_interval: str = "epoch", checkpoint_every_steps: int | None = None,
        checkpoint_every_epochs: int | None = None, log_every_steps: int = 10,
        histograms_every_epochs: int = 1, tensorboard: bool = True,
        boundary_epochs: Iterable[int] | None = None, nan_guard: bool = True,
        grad_clip: float | None = None, verbose: int | None = None, num_workers: int = 0,
        drop_last: bool = False, eval_batch_size: int | None = None,
        distributed: bool = False) -> History:
    """Train ``model`` Keras-style and return its History (one record per epoch).

    Data (``train_data``, ``val_data``, ``test_data``) may be a DataLoader,
    a Dataset or arrays ``(X, y)``. ``loss`` is a name ("cross_entropy",
    "mse", "bce_with_logits"...) or a callable; ``optimizer`` an Optimizer,
    a factory ``params -> Optimizer`` or a name ("adam", "sgd", "nadam"...).
    ``scheduler`` is stepped per epoch (or per step with
    ``scheduler_interval="step"``; a ReduceLROnPlateau on ``monitor``).
    ``seed`` reseeds the global generator (dropout, augmentation) and seeds
    the shuffling.

    With ``run_dir`` (or ``runs_root``, which makes ``<name>-<timestamp>``
    inside it) the whole run folder of docs/run-folder.md is written:
    config, metrics.jsonl, summary.json, checkpoints (``last`` at every
    epoch end, and every ``checkpoint_every_steps`` steps - by default
    about every 30 s of training; 0 turns step checkpoints off), TensorBoard,
    histograms, predictions and activations (after evaluating ``test_data``,
    or ``val_data`` without it), and for 2-D classifiers the decision
    boundary. Without either, nothing is written.

    ``resume=RUN`` continues the run in folder RUN from its last checkpoint
    (the newest intact one when ``last`` is missing or damaged), bit for
    bit: a run killed at any point and resumed ends with the same weights
    as one never interrupted.

    ``distributed=True`` trains data-parallel on every rank of the MPI job
    this process belongs to (``mpirun -n N``); ``batch_size`` is the global
    batch, rank 0 writes the run folder. See ``deepgrad.lab.distributed``.
    """
    from .distributed import DistributedFit

    shard = DistributedFit() if distributed else None
    checkpoint: dict[str, Any] | None = None
    where = ""
    if resume is not None:
        run_dir, where, checkpoint = resume_checkpoint(resume)
    if shard is not None and not shard.main:  # only rank 0 writes
        run_dir = runs_root = None
        verbose = 0
    if seed is not None and resume is None:
        backend.manual_seed(seed)
    loader_rng = (np.random.default_rng([seed, 1]) if seed is not None
                  else np.random.default_rng(int(backend.get_generator().integers(2**63))))
    train_loader = (
        shard.loader(train_data, batch_size, seed=seed, drop_last=drop_last,
                     num_workers=num_workers) if shard is not None else
        as_loader(train_data, batch_size, shuffle=True, generator=loader_rng,
                  drop_last=drop_last, num_workers=num_workers, what="train_data"))
    eval_size = eval_batch_size or max(batch_size, 256)
    val_loader = as_loader(val_data, eval_size, generator=np.random.default_rng(0),
                           num_workers=num_workers, what="val_data")
    test_loader = as_loader(test_data, eval_size, generator=np.random.default_rng(0),
                            num_workers=num_workers, what="test_data")

    loss_fn, loss_name = registry.loss_function(loss)
    sample = peek(train_loader, 8)
    if task is None:
        task = registry.infer_task(loss_name, *(sample if sample is not None else (None, None)))
    monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
    run_name = name or (config or {}).get("name") or type(model).__name__.lower()
    model_name = ((config or {}).get("model") or {}).get("name") or type(model).__name__
    optimizer = registry.make_optimizer(optimizer, model)
    if run_dir is None and runs_root is not None:
        run_dir = RunFolder.create(runs_root, run_name).path

    with contextlib.ExitStack() as held:
        folder = None if run_dir is None else RunFolder(run_dir)
        if folder is not None:
            folder.path.mkdir(parents=True, exist_ok=True)
            held.enter_context(folder_lock(folder.path, "fit"))
        user_callbacks = list(callbacks)
        extra: list[Callback] = []
        if nan_guard and not any(isinstance(c, NaNGuard) for c in user_callbacks):
            extra.append(NaNGuard())
        setup: RunSetup | None = None
        if folder is not None:
            setup = RunSetup(
                folder, monitor=monitor, log_every_steps=log_every_steps,
                tensorboard=tensorboard, histograms_every_epochs=histograms_every_epochs,
                boundary_epochs=boundary_epochs, checkpoint_every_steps=checkpoint_every_steps,
                checkpoint_every_epochs=checkpoint_every_epochs,
                with_checkpoints=not any(isinstance(c, ModelCheckpoint) for c in user_callbacks))
            extra += setup.callbacks(task, sample, train_loader, val_loader)
        if not any(isinstance(c, (ProgressBar, LiveCurves)) for c in user_callbacks):
            extra.append(progress_callback(verbose))  # live curves in a notebook, else a bar
        if shard is not None:
            extra.append(shard.callback())

        trainer = Trainer(model, loss=loss_fn, optimizer=optimizer, metrics=metrics,
                          callbacks=[*user_callbacks, *extra], scheduler=scheduler,
                          scheduler_interval=scheduler_interval, scheduler_monitor=monitor,
                          task=task, run_dir=run_dir, grad_clip=grad_clip,
                          verbose=1 if verbose is None else verbose)
        trainer.loss_name = loss_name
        trainer.setup_metrics(*(sample if sample is not None else (None, None)))
        if config is None:
            config = config_from_args(model, optimizer, trainer.scheduler, loss_name,
                                      train_loader, name=run_name, epochs=epochs,
                                      batch_size=batch_size, seed=seed)
        trainer.fingerprint = model_fingerprint(model, config.get("model"))
        if checkpoint is not None:
            trainer.load_checkpoint(checkpoint, where)
            trainer.last_checkpoint = Path(where)
        if shard is not None:
            trainer.train_model = shard.wrap(model, seed, resumed=checkpoint is not None)
            test_loader = test_loader if shard.main else None  # rank 0 tests and reports
        params = int(sum(p._array.size for p in model.parameters()))

        def write_summary(status: str, error: str | None = None) -> None:
            if setup is not None:
                setup.write_summary(trainer, name=run_name, model_name=model_name,
                                    status=status, error=error, params=params)

        if sample is not None:
            try:
                check_model_fits(model, sample[0])
            except DataMismatch as error:
                _best_effort(write_summary, "failed", f"DataMismatch: {error}")
                raise
        if setup is not None:
            setup.write_start(config, model, sample, resumed=resume is not None,
                              loss_fn=loss_fn)
            write_summary("running")
        try:
            with sigterm_as_interrupt():
                trainer.fit(train_loader, val_loader, epochs)
                if setup is not None and not trainer.failed:
                    setup.finish(trainer, test_loader, val_loader, train_loader,
                                 _class_names(class_names,
                                              test_loader or val_loader or train_loader))
                elif test_loader is not None and not trainer.failed:
                    trainer.test(test_loader, keep_inputs=0)
        except KeyboardInterrupt as stop:
            _best_effort(write_summary, "stopped", f"interrupted ({stop or 'KeyboardInterrupt'})")
            raise
        except BaseException as error:
            _best_effort(write_summary, "failed", f"{type(error).__name__}: {error}")
            raise
        finally:
            if setup is not None:
                setup.close()
        write_summary("failed" if trainer.failed else "completed", trainer.failed)
    trainer.history.status = "failed" if trainer.failed else "completed"
    trainer.history.error = trainer.failed
    trainer.history.run_dir = (shard.shared_path(None if run_dir is None else Path(run_dir))
                               if shard is not None else run_dir)
    return trainer.history


class DataMismatch(RuntimeError):
    """The model cannot take the data's inputs (a user mistake: the wrong model or data)."""


def check_model_fits(model: Any, inputs: np.ndarray) -> None:
    """One forward pass of two samples (eval mode, no grad, a private generator), so a model
    built for other data fails here, in one line, before anything is written."""
    from deepgrad import autograd
    from deepgrad.data.rng import use_generator
    from deepgrad.tensor import Tensor, as_array

    was_training = model.training
    model.eval()
    try:
        with autograd.no_grad(), use_generator(np.random.default_rng(0)):
            model(Tensor(as_array(inputs[:2]), _copy=False))
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataMismatch(f"the model does not fit the data: {first} (input batch of shape "
                           f"{tuple(inputs[:2].shape)})") from error
    finally:
        model.train(was_training)


def resume_checkpoint(resume: str | Path) -> tuple[Path, str, dict[str, Any]]:
    """``(run folder, checkpoint path, checkpoint)`` from a run folder or a checkpoint file.

    A folder resumes from ``checkpoints/last``; when that is missing or damaged
    (a kill during the very first write, a disk that filled up), from the
    newest checkpoint that loads whole, saying so on stderr.
    """
    from deepgrad.serialization import CheckpointError, load

    path = Path(resume)
    if path.is_file():
        run_dir = path.parent.parent if path.parent.name == RunFolder.CHECKPOINTS else path.parent
        return run_dir, str(path), dict(load(path))
    if not path.is_dir():
        raise FileNotFoundError(f"fit(resume={str(resume)!r}): no such run folder or checkpoint")
    folder = RunFolder(path)
    candidates = folder.newest_checkpoints()
    last = folder.last
    if last in candidates:
        candidates = [last] + [c for c in candidates if c != last]
    problems = [] if last.exists() else [f"{last.name} is missing"]
    for candidate in candidates:
        try:
            state = dict(load(candidate))
        except (OSError, ValueError, CheckpointError) as error:
            problems.append(f"{candidate.name}: {str(error).splitlines()[0]}")
            continue
        if problems:
            print(f"fit: resume: {'; '.join(problems)}; resuming from {candidate}",
                  file=sys.stderr)
        return path, str(candidate), state
    detail = f" ({'; '.join(problems)})" if candidates else ""
    raise FileNotFoundError(f"fit(resume={str(resume)!r}): no intact checkpoint in "
                            f"{folder.checkpoints}{detail}; train with checkpoints "
                            "(a run_dir) to resume")


def _best_effort(write: Any, *args: Any) -> None:
    """Record a stop or a failure if the disk allows (it may be the full disk that failed)."""
    try:
        write(*args)
    except OSError as error:
        print(f"fit: could not record the run's status ({error})", file=sys.stderr)


def _class_names(given: Any, loader: Any) -> list[str] | None:
    if given is not None:
        return [str(c) for c in given]
    classes = getattr(getattr(loader, "dataset", None), "classes", None)
    return [str(c) for c in classes] if classes else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def config_from_args(model: Any, optimizer: Any, scheduler: Any, loss_name: str,
                     train_loader: Any, *, name: str, epochs: int, batch_size: int,
                     seed: int | None) -> dict[str, Any]:
    """A config.yaml for runs started from Python rather than from a config file."""
    opt: dict[str, Any] = {"name": type(optimizer).__name__}
    if optimizer is not None and getattr(optimizer, "param_groups", None):
        opt.update({k: _plain(v) for k, v in optimizer.param_groups[0].items() if k != "params"})
    dataset = getattr(train_loader, "dataset", None)
    return {
        "name": name,
        "model": {"name": type(model).__name__},
        "data": {"name": type(dataset).__name__, "batch_size": batch_size,
                 "size": len(dataset) if dataset is not None else None},
        "optimizer": opt,
        "scheduler": None if scheduler is None else {"name": type(scheduler).__name__},
        "loss": loss_name,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "logging": {},
    }


def evaluate(model: Any, data: Any, *, loss: Any = None, metrics: Iterable[Any] | None = None,
             batch_size: int = 256, task: str | None = None) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data`` (DataLoader, Dataset or arrays), in eval mode.

    Without ``loss``: cross-entropy for integer targets, MSE otherwise.
    Returns ``{"loss": ..., "accuracy": ...}``.
    """
    loader = as_loader(data, batch_size, generator=np.random.default_rng(0), what="data")
    sample = peek(loader, 8)
    if loss is None:
        integer = sample is not None and sample[1].dtype.kind in "iu"
        loss = "cross_entropy" if integer else "mse"
    trainer = Trainer(model, loss=loss, metrics=metrics, task=task)
    trainer.setup_metrics(*(sample if sample is not None else (None, None)))
    return trainer.evaluate(loader)


def predict(model: Any, data: Any, *, batch_size: int = 256) -> np.ndarray:
    """The model's raw outputs (logits, reconstructions) for every sample of ``data``."""
    loader = as_loader(data, batch_size, generator=np.random.default_rng(0), what="data")
    return Trainer(model, loss=lambda o, t: o).predict(loader)
