"""How a tensor prints: PyTorch's layout, digit for digit, so a tutorial's printed output
reads the same on deepgrad (``tensor([-2.0627, -2.0630, ...])``, not NumPy's ``-2.063 ``).

The rules, as torch applies them:

- One width for every element of a tensor. Floats print with ``precision`` (4) digits after
  the point; all-integer floats as ``3.``; in scientific notation (``1.0000e-05``) when the
  largest nonzero magnitude is over 1e3 times the smallest, over 1e8, or the smallest is
  under 1e-4 (``sci_mode`` forces it on or off). NaN and infinities do not count.
- Rows wrap at ``linewidth`` (80) characters; a tensor of more than ``threshold`` (1000)
  elements shows ``edgeitems`` (3) at each end of every dimension around ``...``, and
  its width comes from the shown elements only.
- Suffixes after the values: ``dtype=`` unless the dtype is the default float, int64 or
  bool (an empty tensor always says it), ``size=`` for an empty tensor that is not 1-d,
  then ``grad_fn=<...>`` or ``requires_grad=True``; one that would pass ``linewidth`` goes
  on a new line.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_str"]


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": _PrintOptions(),
    "short": _PrintOptions(precision=2, edgeitems=2),
    "full": _PrintOptions(threshold=math.inf),
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """torch.set_printoptions: ``profile`` is ``default``, ``short`` or ``full`` (every
    element); the other arguments override it. ``sci_mode`` None lets the values decide."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        chosen = _PROFILES[profile]
        PRINT_OPTS.precision, PRINT_OPTS.threshold = chosen.precision, chosen.threshold
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = chosen.edgeitems, chosen.linewidth
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments ``set_printoptions`` takes back."""
    return asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """``with deepgrad.printoptions(precision=2): ...``: the options inside the block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One width and one notation for all the (shown) elements of a tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.width = max(self.width, len(str(value)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitude = np.abs(finite).astype(np.float64)
        smallest, largest = float(magnitude.min()), float(magnitude.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        precision = PRINT_OPTS.precision
        for value in finite.tolist():
            if self.sci_mode:
                text = f"{value:.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}."
            else:
                text = f"{value:.{precision}f}"
            self.width = max(self.width, len(text))

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
            else:
                text = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            text = str(value)
        return text.rjust(self.width)


class _ComplexFormatter:
    """Real and imaginary parts each with their own formatter: ``1.0000+2.0000j``."""

    def __init__(self, values: np.ndarray) -> None:
        self.real, self.imag = _Formatter(values.real), _Formatter(values.imag)
        self.width = self.real.width + self.imag.width + 1  # the 'j'

    def format(self, value: Any) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized(values: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: ``edgeitems`` at each end of every dimension."""
    edge = PRINT_OPTS.edgeitems
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge:size]
            values = np.take(values, keep, axis=axis)
    return values


def _body(values: np.ndarray, indent: int, summarize: bool,
          fmt: _Formatter | _ComplexFormatter) -> str:
    edge = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
        if summarize and not edge:
            items = ["..."]
        elif summarize and values.shape[0] > 2 * edge:
            items = ([fmt.format(v) for v in values[:edge].tolist()] + [" ..."]
                     + [fmt.format(v) for v in values[-edge:].tolist()])
        else:
            items = [fmt.format(v) for v in values.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and values.shape[0] > 2 * edge:
        rows = ([_body(values[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                + [_body(values[i], indent + 1, summarize, fmt)
                   for i in range(values.shape[0] - edge, values.shape[0])])
    else:
        rows = [_body(row, indent + 1, summarize, fmt) for row in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_str(values: np.ndarray, *, default_dtype: np.dtype[Any], grad_fn: str | None,
               requires_grad: bool, prefix: str = "tensor(") -> str:
    """The repr of a tensor holding ``values`` (torch's ``_str``)."""
    indent = len(prefix)
    suffixes = []
    dtype_text = f"dtype=deepgrad.{values.dtype}"
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != default_dtype:
            suffixes.append(dtype_text)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(values.shape)}")
        complex_default = np.result_type(default_dtype, np.complex64)
        if values.dtype not in (default_dtype, complex_default, np.int64, np.bool_):
            suffixes.append(dtype_text)
        summarize = values.size > PRINT_OPTS.threshold
        shown = _summarized(values) if summarize else values
        fmt = _ComplexFormatter(shown) if values.dtype.kind == "c" else _Formatter(shown)
        body = _body(values, indent, summarize, fmt)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
