"""``deepgrad.backends.cudnn``: the flags tutorials set (``benchmark``, ``deterministic``).

They are plain attributes with torch's defaults so that setting them works;
they change nothing, since there is no cuDNN. deepgrad is deterministic anyway.
"""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    return False


def version() -> None:
    return None
