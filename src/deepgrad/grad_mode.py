"""``inference_mode``: torch's faster ``no_grad`` for evaluation, here exactly ``no_grad``.

torch's inference mode also marks the tensors it creates ("inference tensors")
so that it can skip version counting; deepgrad has nothing to skip, so the
mode only turns graph recording off and remembers that it is on
(``is_inference_mode_enabled``). As torch, ``inference_mode(False)`` turns
recording back *on*; it works as a context manager, as ``@inference_mode()``
and as a bare ``@inference_mode``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from deepgrad import autograd

_enabled = False


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside ``inference_mode()`` (and not inside ``inference_mode(False)``)."""
    return _enabled


class inference_mode:  # noqa: N801 - torch's name
    """Turn graph recording off (``mode=True``) or on (``mode=False``) inside a block."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used bare: ``@inference_mode`` on a function
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._saved: list[tuple[bool, Any]] = []  # a stack: the same object may nest

    def __enter__(self) -> None:
        global _enabled
        grad = autograd.no_grad() if self.mode else autograd.enable_grad()
        grad.__enter__()
        self._saved.append((_enabled, grad))
        _enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _enabled
        previous, grad = self._saved.pop()
        _enabled = previous
        grad.__exit__(*exc)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``fn`` so that each call runs in this mode."""
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)
