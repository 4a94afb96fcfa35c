"""ONNX export: ``deepgrad.onnx.export(model, args, "model.onnx")``, as ``torch.onnx.export``.

The file runs in onnxruntime and opens in Netron. It needs the ``onnx`` package
(``pip install 'deepgrad[onnx]'``), imported only when ``export`` runs. docs/onnx.md says
how it works and which ops map to what.
"""

from __future__ import annotations

from deepgrad.onnx.errors import ExportError, UnsupportedOpError
from deepgrad.onnx.export import DEFAULT_OPSET, MIN_OPSET, export
from deepgrad.onnx.ops import OPS

__all__ = ["export", "ExportError", "UnsupportedOpError", "supported_ops", "DEFAULT_OPSET",
           "MIN_OPSET"]


def supported_ops() -> list[str]:
    """The deepgrad ops (``Function`` class names) export maps to ONNX, sorted."""
    return sorted(OPS)
