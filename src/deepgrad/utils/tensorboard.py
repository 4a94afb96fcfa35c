"""``torch.utils.tensorboard.SummaryWriter`` for deepgrad: tensorboardX's writer (the lab's
extra), taking deepgrad tensors wherever it takes arrays or numbers."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deepgrad.lab.loggers import import_summary_writer
from deepgrad.tensor import Tensor

_Writer = import_summary_writer()


def _plain(value: Any) -> Any:
    """A deepgrad tensor as NumPy (a 0-d one as a float); anything else unchanged."""
    if isinstance(value, Tensor):
        array = np.array(value.detach().numpy(), copy=True)
        return float(array) if array.ndim == 0 else array
    return value


class SummaryWriter(_Writer):  # type: ignore[misc, valid-type]
    """Writes TensorBoard event files; ``add_graph`` is not available (it traces torch)."""

    def add_scalar(self, tag: str, scalar_value: Any, *args: Any, **kwargs: Any) -> Any:
        return super().add_scalar(tag, _plain(scalar_value), *args, **kwargs)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], *args: Any,
                    **kwargs: Any) -> Any:
        values = {k: _plain(v) for k, v in tag_scalar_dict.items()}
        return super().add_scalars(main_tag, values, *args, **kwargs)

    def add_histogram(self, tag: str, values: Any, *args: Any, **kwargs: Any) -> Any:
        return super().add_histogram(tag, _plain(values), *args, **kwargs)

    def add_image(self, tag: str, img_tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return super().add_image(tag, _plain(img_tensor), *args, **kwargs)

    def add_images(self, tag: str, img_tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return super().add_images(tag, _plain(img_tensor), *args, **kwargs)

    def add_embedding(self, mat: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs = {k: _plain(v) for k, v in kwargs.items()}
        return super().add_embedding(_plain(mat), *[_plain(a) for a in args], **kwargs)

    def add_graph(self, model: Any, *args: Any, **kwargs: Any) -> None:
        """Records nothing, with a warning: tensorboardX traces torch models only (a
        training script must not stop for a picture)."""
        warnings.warn(
            "SummaryWriter.add_graph traces torch models and records nothing for a deepgrad "
            "model; deepgrad.viz.to_dot(model(x)) draws its autograd graph, and `deepgrad "
            "report` shows it", stacklevel=2)


__all__ = ["SummaryWriter"]
