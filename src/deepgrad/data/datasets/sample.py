"""The small MNIST and Fashion-MNIST samples that ship inside the package.

They let the examples and the main job run offline on a fresh machine:
5,000 training and 1,000 test images of each, stratified by class, drawn
with a fixed seed by ``scripts/make_mnist_sample.py`` and stored as
compressed uint8 ``.npz``. See ``_sample/ATTRIBUTION.md`` for the licences
(MNIST: CC BY-SA 3.0, LeCun, Cortes, Burges; Fashion-MNIST: MIT, Zalando).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "_sample"
SAMPLES = {"mnist": "mnist.npz", "fashion-mnist": "fashion-mnist.npz"}


@cache
def _load(name: str) -> dict[str, np.ndarray]:
    if name not in SAMPLES:
        raise ValueError(f"no embedded sample {name!r}; available: {sorted(SAMPLES)}")
    path = SAMPLE_DIR / SAMPLES[name]
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise CorruptFileError(f"{path}: the embedded sample cannot be read ({exc})") from exc
    for a in arrays.values():
        a.flags.writeable = False  # shared between datasets: nobody may edit it in place
    return arrays


def sample_arrays(name: str, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) and labels int64 (N,) of an embedded sample."""
    arrays = _load(name)
    split = "train" if train else "test"
    return arrays[f"x_{split}"], arrays[f"y_{split}"].astype(np.int64)
