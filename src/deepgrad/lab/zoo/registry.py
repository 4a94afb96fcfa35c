"""The zoo's registry: model names -> builders, with each model's report and default run.

A ``ModelSpec`` keeps what a user needs to pick a model without reading
its code: the report it reproduces, the input shape, the parameter count
the report prints, and a default config that trains it in a minute.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelSpec", "register", "get_spec", "list_models", "specs", "image_shape"]


def image_shape(features: int) -> tuple[int, ...]:
    """The image a flat input of ``features`` comes from: MNIST, CIFAR-10, or just a vector."""
    return {784: (1, 28, 28), 3072: (3, 32, 32)}.get(int(features), (int(features),))


@dataclass(frozen=True)
class ModelSpec:
    """One zoo entry."""

    name: str
    builder: Callable[..., Any]
    report: str  # "000".."004", or "000, 003" for a model two reports use
    description: str
    input_shape: tuple[int, ...]  # one sample, e.g. (1, 28, 28)
    params: int  # parameter count with the default arguments (as the report prints it)
    task: str = "classification"
    default: dict[str, Any] = field(default_factory=dict)  # the zoo's default config
    # The input shape for other builder arguments (an MLP with widths [3072, ...] takes CIFAR).
    shape_fn: Callable[[dict[str, Any]], tuple[int, ...]] | None = None

    def input_shape_for(self, kwargs: dict[str, Any]) -> tuple[int, ...]:
        """One sample's shape for a model built with ``kwargs``."""
        if self.shape_fn is None or not kwargs:
            return self.input_shape
        return tuple(self.shape_fn(kwargs))


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model; names are unique."""
    if spec.name in _REGISTRY:
        raise ValueError(f"zoo: model {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[str]:
    """All model names, in registration (report) order."""
    return list(_REGISTRY)


def specs() -> list[ModelSpec]:
    """All specs, in registration order."""
    return list(_REGISTRY.values())


def get_spec(name: str) -> ModelSpec:
    """The spec for ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"zoo: unknown model {name!r}; available: {', '.join(_REGISTRY)}") from None


def default_config(name: str) -> dict[str, Any]:
    """A fresh copy of the model's default config mapping (``deepgrad train NAME``)."""
    spec = get_spec(name)
    config = copy.deepcopy(spec.default)
    config.setdefault("model", {"name": name})
    return config
