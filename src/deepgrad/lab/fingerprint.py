"""A checkpoint's note of the model it was written for, checked when it is loaded back.

Weights load into any model of the same shapes, so a ``config.yaml`` edited
after training (``activation: tanh`` instead of ``relu``) used to evaluate
silently to another accuracy. Every training checkpoint now records the
model section of the config and a hash of the model's structure (its
``repr``: layer types and their settings); ``--resume`` and ``eval``
refuse a checkpoint whose note does not match the model they rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["CheckpointMismatch", "model_fingerprint", "check_fingerprint"]


class CheckpointMismatch(ValueError):
    """A checkpoint written for another model than the one it is loaded into."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def model_fingerprint(model: Any, model_config: Any = None) -> dict[str, Any]:
    """``{"config": <the config's model section>, "structure": <sha256 of repr(model)>}``."""
    structure = hashlib.sha256(repr(model).encode()).hexdigest()[:16]
    return {"config": _canonical(model_config) if model_config is not None else None,
            "structure": structure}


def check_fingerprint(saved: Any, current: dict[str, Any], where: str) -> None:
    """Raise CheckpointMismatch when ``saved`` (from a checkpoint; None for an old one, which
    passes) names another model config or structure than ``current``."""
    if not isinstance(saved, dict):
        return
    old_cfg, new_cfg = saved.get("config"), current.get("config")
    if old_cfg is not None and new_cfg is not None and old_cfg != new_cfg:
        raise CheckpointMismatch(
            f"{where} was written for model {old_cfg}, but the config now says {new_cfg}; "
            "restore config.yaml's model section, or train a new run")
    if saved.get("structure") not in (None, current.get("structure")):
        raise CheckpointMismatch(
            f"{where} was written for a model of another structure (layer types or settings "
            "differ from the model built now); restore the model, or train a new run")
