"""The errors export raises: both name the op, the module it ran in and the line of user
code that called it, so the fix is one look away."""

from __future__ import annotations


class ExportError(RuntimeError):
    """The model cannot be written as ONNX as it is (the message says why and what to do)."""


class UnsupportedOpError(ExportError):
    """An op with no ONNX mapping; ``op`` is its name."""

    def __init__(self, message: str, op: str) -> None:
        super().__init__(message)
        self.op = op
