"""``python -m deepgrad.lab.report RUN ...``: the report command without the ``deepgrad`` CLI."""

import sys

from deepgrad.lab.report import main

sys.exit(main())
