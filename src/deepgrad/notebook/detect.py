"""Are we in a notebook? True only inside a Jupyter kernel (IPython's ZMQ shell, which
can show HTML and update it in place), not in a terminal IPython, plain Python, or a
script whose output is piped."""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True when running in a Jupyter kernel (JupyterLab, Notebook, VS Code, nbclient)."""
    if "IPython" not in sys.modules:  # never import IPython just to ask
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    # The kernel's shell is a ZMQInteractiveShell (or a subclass: Colab's, Spyder's) with a
    # kernel attached; the terminal one (TerminalInteractiveShell) cannot show HTML.
    zmq = any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)
    return zmq and getattr(shell, "kernel", None) is not None
