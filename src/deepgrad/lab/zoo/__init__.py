"""The course model zoo: every model of reports 000-004 by name.

``get_model("mnist-cnn")`` builds report 001's MNIST CNN; keyword
arguments change what the reports varied (``get_model("mlp", widths=[3072,
100, 10], init="normal", init_std=1e-4)``). ``list_models()`` names them,
``get_spec(name)`` tells which report, the input shape and the parameter
count the report prints, and ``default_config(name)`` is the short run
``deepgrad train NAME`` does.
"""

from __future__ import annotations

from typing import Any

# isort: off
# Registration order is the listing order: by report.
from . import mlp, mnist_cnn, cifar_cnn, lenet, autoencoder, moons  # noqa: F401
# isort: on
from .autoencoder import DenoisingAE
from .cifar_cnn import CifarCNN
from .lenet import LeNet5, TutorialCNN
from .mlp import MLP
from .mnist_cnn import MnistCNN
from .moons import MoonsNet
from .registry import ModelSpec, default_config, get_spec, list_models, register, specs

__all__ = [
    "get_model",
    "list_models",
    "get_spec",
    "default_config",
    "specs",
    "register",
    "ModelSpec",
    "count_parameters",
    "MLP",
    "MnistCNN",
    "CifarCNN",
    "TutorialCNN",
    "LeNet5",
    "DenoisingAE",
    "MoonsNet",
]


def get_model(name: str, **kwargs: Any) -> Any:
    """Build zoo model ``name``; unknown names and arguments say what is allowed."""
    spec = get_spec(name)
    from deepgrad.lab.validator import check_kwargs

    kwargs = check_kwargs(kwargs, spec.builder, "model", label=name)
    return spec.builder(**kwargs)


def count_parameters(model: Any) -> int:
    """Number of trainable scalars (what the reports' parameter tables add up)."""
    return int(sum(p._array.size for p in model.parameters() if p.requires_grad))
