"""Histograms: ``histc`` (counts in equal bins) and ``histogram`` (counts and bin edges).

They follow torch's kernels rather than NumPy's: ``histc`` places a value by
the linear formula ``(x - min) * bins / (max - min)`` computed in the input's
dtype, ``histogram`` by searching the returned edges; both count the top edge
in the last bin and skip values outside the range (NaN included). An empty
or one-valued range is widened as torch does (by 1 for ``histc``, by 0.5 for
``histogram``). Results keep the input's float dtype; no gradient flows.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from typing import Any

import numpy as np

from deepgrad.ops.creation import _int_arg
from deepgrad.ops.out_arg import write_out
from deepgrad.tensor import Tensor

# Named "histogram" as torch's return type (torch.return_types.histogram).
HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])  # type: ignore[name-match]


def _values(op: str, input: Any) -> np.ndarray:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{op}(): needs a floating point input, got dtype "
                                  f"{input.dtype}; use .float() first")
    return np.asarray(input.detach().numpy()).reshape(-1)


def _bin_count(op: str, bins: Any) -> int:
    count = _int_arg(op, "bins", bins)
    if count <= 0:
        raise RuntimeError(f"{op}(): bins must be > 0, but got {count}")
    return count


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *,  # noqa: A002
          out: Tensor | None = None) -> Tensor:
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when
    ``min == max``)."""
    x = _values("histc", input)
    nb = _bin_count("histc", bins)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"histc(): range of [{lo}, {hi}] is not finite")
    if not lo < hi:
        raise RuntimeError(f"histc(): max must be larger than min (got min={lo}, max={hi})")
    dt = x.dtype.type
    left, right = dt(lo), dt(hi)
    inside = x[(x >= left) & (x <= right)]
    pos = ((inside - left) * dt(nb) / (right - left)).astype(np.int64)
    pos = np.clip(pos, 0, nb - 1)  # the top edge counts in the last bin
    hist = np.bincount(pos, minlength=nb).astype(x.dtype)
    return write_out("histc", hist, out) if out is not None else Tensor(hist, _copy=False)


def _edges(x: np.ndarray, bins: Any, range: Any) -> np.ndarray:  # noqa: A002
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram(): range= goes with an int bins, not a tensor of edges")
        edges = np.asarray(bins.detach().numpy())
        if edges.ndim != 1 or edges.size < 2:
            raise RuntimeError(f"histogram(): bins must be a 1-D tensor of at least 2 edges, "
                               f"got shape {tuple(edges.shape)}")
        if edges.dtype != x.dtype:
            raise RuntimeError(f"histogram(): input and bins should have the same dtype, "
                               f"got {x.dtype} and {edges.dtype}")
        return edges
    if isinstance(bins, (list, tuple)):
        raise TypeError("histogram(): bins must be an int or a Tensor of edges, not "
                        f"{type(bins).__name__}")
    nb = _bin_count("histogram", bins)
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    elif x.size:
        lo, hi = float(x.min()), float(x.max())
    else:
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"histogram(): range [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"histogram(): min should not exceed max, but got min {lo} max {hi}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, nb + 1).astype(x.dtype)


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None,  # noqa: A002
              weight: Tensor | None = None, density: builtins.bool = False,
              out: Any = None) -> Any:
    """``(hist, bin_edges)``: counts (or summed ``weight``, or a density that integrates to
    1) in ``bins`` equal bins over ``range`` (default: the data's), or between the edges
    of a 1-D tensor ``bins``."""
    x = _values("histogram", input)
    edges = _edges(x, bins, range)
    w = None
    if weight is not None:
        if not isinstance(weight, Tensor) or tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"histogram(): weight should have the shape of input "
                               f"{tuple(input.shape)}, got "
                               f"{getattr(weight, 'shape', type(weight).__name__)}")
        if weight.dtype != input.dtype:
            raise RuntimeError(f"histogram(): input and weight should have the same dtype, "
                               f"got {input.dtype} and {weight.dtype}")
        w = np.asarray(weight.detach().numpy()).reshape(-1)
    nb = edges.size - 1
    keep = (x >= edges[0]) & (x <= edges[-1])
    pos = np.minimum(np.searchsorted(edges, x[keep], side="right") - 1, nb - 1)
    counts = np.bincount(pos, weights=None if w is None else w[keep], minlength=nb)
    hist = counts.astype(x.dtype)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum()
            hist = (hist / np.diff(edges)).astype(x.dtype)
    if out is not None:
        hist_out, edges_out = out
        return HistogramResult(write_out("histogram", hist, hist_out),
                               write_out("histogram", edges, edges_out))
    return HistogramResult(Tensor(hist, _copy=False), Tensor(edges, _copy=False))
