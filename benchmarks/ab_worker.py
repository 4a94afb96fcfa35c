"""The worker of ``ab.py``: one deepgrad tree (from ``PYTHONPATH``), or torch
(``--framework torch``), timing training steps.

Reads one JSON command per line on stdin, answers one JSON line on stdout:
``{"cmd": "keys"}`` -> the model ids; ``{"cmd": "build", "key": "C"}`` -> builds that
model's step (``run.make_step``) and runs it twice to warm up; ``{"cmd": "time",
"steps": n}`` -> seconds per step, wall and CPU (``timing.timed``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int)
    parser.add_argument("--framework", choices=("deepgrad", "torch"), default="deepgrad")
    args = parser.parse_args()
    import run  # loads NumPy and its BLAS first: threadpool_limits only caps loaded ones
    from timing import timed

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        if args.framework == "torch":
            import torch

            torch.set_num_threads(args.threads)

    step: Callable[[], None] | None = None
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "keys":
            answer: dict[str, object] = {"keys": [c.key for c in run.CASES]}
        elif command["cmd"] == "build":
            case = next((c for c in run.CASES if c.key == command["key"]), None)
            if case is None:
                raise SystemExit(f"ab_worker: unknown model id {command['key']!r}; known: "
                                 f"{','.join(c.key for c in run.CASES)}")
            step = run.make_step(run.Framework(args.framework), case)[0]
            step()
            step()
            answer = {"title": case.title, "batch": case.batch}
        elif command["cmd"] == "time":
            if step is None:
                raise SystemExit("ab_worker: 'time' before 'build'")
            answer = timed(step, int(command["steps"]))
        else:
            raise SystemExit(f"ab_worker: unknown command {command!r}")
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
