"""``python -m deepgrad.lab.sweep FILE ...``: the ``deepgrad sweep`` command without the CLI."""

import sys

from . import cli

sys.exit(cli())
