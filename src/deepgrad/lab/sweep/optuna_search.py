"""Optuna search: the sweep asks Optuna for each trial and tells it the outcome.

The sweep drives the study with Optuna's ask-and-tell interface, so the
trials run on the same backends as a grid (local processes or Ray
tasks). TPE proposes the settings; the median pruner stops a trial whose
per-epoch validation metric falls below the median of earlier trials at
the same epoch. Pruning happens inside the worker (``PruningCallback``
reports every epoch to the study's storage), which is why the study lives
in a storage every worker reaches: by default ``sqlite:///<sweep>/optuna.db``;
give ``search.storage`` (an RDB URL) and the same ``study_name`` on
several machines to share one search.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepgrad.lab.callbacks import Callback

from .spec import SweepSpec, Trial, config_hash, make_trial_id, trial_config, variant_name

__all__ = ["OptunaSearch", "PruningCallback", "default_storage"]


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise ImportError("an Optuna search needs optuna: pip install 'deepgrad[lab]'") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_storage(sweep_dir: Path) -> str:
    """``sqlite:///<absolute sweep folder>/optuna.db``."""
    return f"sqlite:///{(Path(sweep_dir) / 'optuna.db').resolve()}"


class PruningCallback(Callback):
    """Report the epoch's metric to the Optuna trial; stop training when it is pruned."""

    order = -50  # before the checkpoint writers, so the stop is in the saved state

    def __init__(
        self,
        storage: str,
        study_name: str,
        trial_id: int,
        metric: str,
        prune: bool = True,
        n_startup_trials: int = 2,
        n_warmup_steps: int = 1,
    ) -> None:
        self.storage = storage
        self.study_name = study_name
        self.trial_id = int(trial_id)
        self.metric = metric
        self.prune = prune
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps
        self.pruned = False
        self.pruned_at: int | None = None
        self.last_value: float | None = None
        self._trial: Any = None

    def _get_trial(self) -> Any:
        if self._trial is None:
            optuna = _optuna()
            # the pruner is not kept in the storage: build the sweep's own here
            pruner = optuna.pruners.MedianPruner(
                n_startup_trials=self.n_startup_trials, n_warmup_steps=self.n_warmup_steps
            )
            study = optuna.load_study(
                study_name=self.study_name, storage=self.storage, pruner=pruner
            )
            self._trial = optuna.trial.Trial(study, self.trial_id)
        return self._trial

    def on_epoch_end(self, trainer: Any, logs: dict[str, Any]) -> None:
        value = logs.get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return
        self.last_value = float(value)
        step = int(logs.get("epoch", 0))
        trial = self._get_trial()
        trial.report(self.last_value, step)
        if self.prune and trial.should_prune():
            self.pruned = True
            self.pruned_at = step
            trainer.stop_training = True


class OptunaSearch:
    """One study for one sweep folder: ask trials, tell results, find trials to resume."""

    def __init__(self, spec: SweepSpec, sweep_dir: Path) -> None:
        if spec.search is None:
            raise ValueError("OptunaSearch: the sweep has no search section")
        optuna = _optuna()
        self.optuna = optuna
        self.spec = spec
        self.search = spec.search
        self.sweep_dir = Path(sweep_dir).resolve()
        self.storage = self.search.storage or default_storage(self.sweep_dir)
        self.study_name = self.search.study_name or spec.name
        if self.search.pruner == "median":
            pruner = optuna.pruners.MedianPruner(
                n_startup_trials=self.search.pruner_startup_trials,
                n_warmup_steps=self.search.pruner_warmup_steps,
            )
        else:
            pruner = optuna.pruners.NopPruner()
        self.study = optuna.create_study(
            storage=self.storage,
            sampler=self._sampler(self.search.seed),
            pruner=pruner,
            study_name=self.study_name,
            direction=self.search.direction,
            load_if_exists=True,
        )
        existing = len(self.study.get_trials(deepcopy=False))
        if existing:  # a resumed search: do not replay the random start's first draws
            self.study.sampler = self._sampler(self.search.seed + existing)
        self.distributions = {k: d.to_optuna() for k, d in self.search.params.items()}

    def _sampler(self, seed: int) -> Any:
        if self.search.sampler == "random":
            return self.optuna.samplers.RandomSampler(seed=seed)
        return self.optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=self.search.n_startup_trials
        )

    # ------------------------------------------------------------------ bookkeeping
    def _ours(self, frozen: Any) -> bool:
        return frozen.user_attrs.get("sweep_dir") == str(self.sweep_dir)

    def trials(self) -> list[tuple[Trial, str]]:
        """This folder's trials already in the study, with their Optuna state name."""
        out = []
        for frozen in self.study.get_trials(deepcopy=False):
            if self._ours(frozen):
                out.append((self._trial(frozen.number, frozen.params), frozen.state.name))
        return out

    def frozen_id(self, number: int) -> int:
        """The storage's trial id for a trial number (what a worker's callback needs)."""
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.number == number:
                return int(frozen._trial_id)
        raise KeyError(f"study {self.study_name!r} has no trial number {number}")

    def remaining(self) -> int:
        """How many trials the study still needs (all machines' trials count)."""
        return max(0, self.search.n_trials - len(self.study.get_trials(deepcopy=False)))

    def _trial(self, number: int, params: dict[str, Any]) -> Trial:
        overrides = {k: params[k] for k in self.search.params if k in params}
        seed = self.spec.seeds[0]
        name = variant_name(overrides)
        config = trial_config(self.spec, overrides, seed, name)
        key = config_hash(trial_config(self.spec, overrides, seed, name, validate=False))
        return Trial(number, make_trial_id(number, name, seed), name, overrides, seed, config,
                     search_number=number, key=key)

    def worker_info(self, trial: Trial) -> dict[str, Any]:
        """What a worker's ``PruningCallback`` needs to reach this trial."""
        assert trial.search_number is not None
        return {
            "storage": self.storage,
            "study_name": self.study_name,
            "trial_id": self.frozen_id(trial.search_number),
            "metric": self.search.metric,
            "prune": self.search.pruner is not None,
            "n_startup_trials": self.search.pruner_startup_trials,
            "n_warmup_steps": self.search.pruner_warmup_steps,
        }

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial:
        """A new trial with settings proposed by the sampler."""
        ot = self.study.ask(fixed_distributions=self.distributions)
        ot.set_user_attr("sweep_dir", str(self.sweep_dir))
        trial = self._trial(ot.number, ot.params)
        ot.set_user_attr("trial_id", trial.trial_id)
        return trial

    def tell(self, trial: Trial, result: dict[str, Any]) -> float | None:
        """Record a finished trial; interrupted ones stay RUNNING so a re-run resumes them."""
        state = self.optuna.trial.TrialState
        status = result.get("status")
        number = trial.search_number
        if status == "interrupted" or number is None:
            return None
        if status == "pruned":
            self.study.tell(number, state=state.PRUNED, skip_if_finished=True)
            return None
        value = (result.get("final") or {}).get(self.search.metric, result.get("value"))
        if status != "completed" or value is None or not math.isfinite(float(value)):
            self.study.tell(number, state=state.FAIL, skip_if_finished=True)
            return None
        self.study.tell(number, float(value), skip_if_finished=True)
        return float(value)

    def best(self) -> dict[str, Any] | None:
        """The best completed trial: number, value and params."""
        try:
            best = self.study.best_trial
        except ValueError:
            return None
        return {"number": best.number, "value": best.value, "params": dict(best.params)}
