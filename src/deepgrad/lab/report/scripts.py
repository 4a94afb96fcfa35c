"""The page's own JavaScript (hand-written, in ``static/``) and the CSP hash that lets it run.

The report stays self-contained and locked down: the one inline script is
allowed by its SHA-256 in the Content-Security-Policy (``script-src
'sha256-...'``), so no other script — injected by a crafted run name, say, or
loaded from elsewhere — can run. The views' data travel as
``<script type="application/json">`` blocks, which are never executed.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

__all__ = ["SCRIPT_FILES", "page_script", "script_hash"]

STATIC = Path(__file__).parent / "static"
SCRIPT_FILES = ("dom.js", "curves.js", "confusion.js", "sweep.js", "graph.js")


@cache
def page_script() -> str:
    """Every view's script, in one text (each file wraps itself in a function)."""
    text = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in SCRIPT_FILES)
    if "</script" in text.lower():
        raise ValueError("report scripts: a script may not contain '</script'")
    return text


def script_hash(text: str) -> str:
    """The CSP source expression that allows exactly ``text`` as an inline script."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
