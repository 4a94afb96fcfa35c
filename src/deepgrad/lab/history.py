"""History: what ``fit`` returns, one record per completed epoch.

Each record holds the keys of a ``metrics.jsonl`` epoch line: ``epoch``
(1-based count of completed epochs), ``step``, ``train_loss``,
``train_<metric>``, ``val_loss``, ``val_<metric>``, ``lr``, ``time`` and
``samples_per_sec``. ``history["val_loss"]`` gives one column as a list,
as Keras' ``history.history["val_loss"]``.
"""

from __future__ import annotations

import math
from typing import Any

from .registry import monitor_direction


class History:
    """Per-epoch records of a training run, plus the test metrics once evaluated."""

    def __init__(self, epochs: list[dict[str, Any]] | None = None) -> None:
        self.epochs: list[dict[str, Any]] = list(epochs or [])
        self.test: dict[str, float] = {}
        self.stopped_early_at: int | None = None  # epoch at which EarlyStopping stopped
        self.status = "running"  # then "completed" or "failed" (set by fit)
        self.error: str | None = None  # why a run failed (NaNGuard's message...)
        self.run_dir: Any = None  # the run folder fit wrote, if any

    def append(self, record: dict[str, Any]) -> None:
        self.epochs.append(dict(record))

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[Any]:
        """One column across epochs (NaN where missing); ``"loss"`` means ``train_loss``."""
        key = {"loss": "train_loss", "accuracy": "train_accuracy"}.get(key, key)
        if not any(key in record for record in self.epochs):
            raise KeyError(f"History has no {key!r}; it has {self.keys()}")
        return [record.get(key, math.nan) for record in self.epochs]

    def __contains__(self, key: str) -> bool:
        return any(key in record for record in self.epochs)

    def keys(self) -> list[str]:
        """All keys seen in any epoch record, in first-seen order."""
        seen: dict[str, None] = {}
        for record in self.epochs:
            seen.update(dict.fromkeys(record))
        return list(seen)

    @property
    def history(self) -> dict[str, list[Any]]:
        """Keras' shape: ``{key: [value per epoch]}``."""
        return {key: self[key] for key in self.keys()}

    @property
    def last(self) -> dict[str, Any]:
        """The last epoch's record (empty before the first epoch ends)."""
        return self.epochs[-1] if self.epochs else {}

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> dict[str, Any] | None:
        """The epoch record with the best ``monitor`` value (min for losses, max otherwise)."""
        mode = resolve_mode(monitor, mode)
        candidates = [r for r in self.epochs if _finite(r.get(monitor))]
        if not candidates:
            return None
        pick = min if mode == "min" else max
        return pick(candidates, key=lambda r: r[monitor])

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON-able content, for checkpoints."""
        return {"epochs": self.epochs, "test": self.test, "stopped_early_at": self.stopped_early_at}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epochs = [dict(r) for r in state.get("epochs", [])]
        self.test = dict(state.get("test", {}))
        self.stopped_early_at = state.get("stopped_early_at")

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last.items()
                         if isinstance(v, float) and k not in ("time",))
        return f"History(epochs={len(self)}{', ' + last if last else ''})"

    def _repr_html_(self) -> str:
        """Jupyter's view: learning curves and the final metrics."""
        from deepgrad.notebook.run_view import history_html

        return history_html(self)


def resolve_mode(monitor: str, mode: str = "auto") -> str:
    """'min' or 'max'; 'auto' asks the registry which way ``monitor`` improves (losses and
    errors down; accuracy, F1, PSNR and unknown names up)."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return monitor_direction(monitor)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
