"""The NumPy GEMM limit of a training step: its matrix products timed alone.

A deepgrad step cannot be faster than the GEMMs it must do, so the fraction
``GEMM time / step time`` says how much is left to win outside BLAS (1.0: nothing).
The shapes are those of the step: for a linear layer on a (B, in) batch, forward
(B, in) @ (in, out), grad_weight (out, B) @ (B, in) and, when the input needs a gradient,
grad_input (B, out) @ (out, in); a convolution is the same with B = N*Ho*Wo rows and
in = C*kh*kw (im2col). They are found by forward hooks on one real step of the model.
Torch's fraction is printed too: above 1.0 means torch beats NumPy's GEMMs at these
shapes (oneDNN's direct convolutions), a bound no im2col GEMM can pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from timing import interleaved

Gemm = tuple[int, int, int]  # (m, k, n): an (m, k) @ (k, n) product


def _linear_gemms(rows: int, k: int, n: int, needs_input_grad: bool) -> list[Gemm]:
    gemms = [(rows, k, n), (n, rows, k)]
    if needs_input_grad:
        gemms.append((rows, n, k))
    return gemms


def step_gemms(model: Any, run_step: Callable[[], None]) -> list[Gemm]:
    """The GEMM shapes of one training step of a deepgrad ``model`` (run once, hooked)."""
    from deepgrad import nn

    found: list[Gemm] = []

    def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x = inputs[0]
        needs = bool(x.requires_grad)
        if isinstance(module, nn.Linear):
            rows = int(np.prod(x.shape[:-1]))
            found.extend(_linear_gemms(rows, module.in_features, module.out_features, needs))
        elif isinstance(module, nn.Conv2d):
            n, _, ho, wo = output.shape
            o, cg, kh, kw = module.weight.shape
            g = module.groups
            for _ in range(g):
                found.extend(_linear_gemms(n * ho * wo, cg * kh * kw, o // g, needs))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        run_step()
    finally:
        for h in handles:
            h.remove()
    return found


def gemm_time(gemms: list[Gemm], rounds: int) -> dict[str, float]:
    """Median seconds (wall and CPU) of all ``gemms`` done one after the other, float32,
    on contiguous operands made once (the GEMMs alone: no copies, no allocation of
    inputs)."""
    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32),
                 np.empty((m, n), dtype=np.float32)) for m, k, n in gemms]

    def all_gemms() -> None:
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    samples = interleaved({"gemm": all_gemms}, rounds, 1, warmup=1)["gemm"]
    return {clock: float(np.median([s[clock] for s in samples])) for clock in ("wall", "cpu")}
