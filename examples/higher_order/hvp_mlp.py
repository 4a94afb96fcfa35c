"""The Hessian-vector product of a 2-layer MLP's loss, three ways, against a finite
difference.

For the loss L(w) of a network with n weights, the Hessian H is n x n: 1,994 weights
here make a 5.3-million-entry matrix. A Hessian-vector product ``H v`` never builds it:

1. ``autograd.functional.hvp``: torch's signature, the double-vjp trick;
2. by hand: ``g = grad(L, w, create_graph=True)``, then ``grad(<g, v>, w)``;
3. a central finite difference of gradients: ``(grad L(w + e v) - grad L(w - e v)) / 2e``.

The first two are exact up to rounding and agree with each other to ~1e-16; the third
agrees with them to the finite difference's own error (~e^2).

Run:  python examples/higher_order/hvp_mlp.py
"""

from __future__ import annotations

import numpy as np

import deepgrad as dg
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from deepgrad.autograd.functional import hvp


def main() -> None:
    dg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 10)).double()
    x = dg.randn(128, 20, dtype=dg.float64)
    y = dg.randint(0, 10, (128,))
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach() for p in model.parameters())
    count = sum(p.numel() for p in params)

    def loss(*weights: dg.Tensor) -> dg.Tensor:
        w1, b1, w2, b2 = weights
        return F.cross_entropy(F.linear(dg.tanh(F.linear(x, w1, b1)), w2, b2), y)

    rng = np.random.default_rng(1)
    v = tuple(dg.tensor(rng.standard_normal(tuple(p.shape))) for p in params)

    _, hv = hvp(loss, params, v)

    ws = tuple(p.clone().requires_grad_(True) for p in params)
    grads = dg.autograd.grad(loss(*ws), ws, create_graph=True)
    by_hand = dg.autograd.grad(sum((g * u).sum() for g, u in zip(grads, v, strict=True)), ws)

    def gradient_at(step: float) -> tuple[dg.Tensor, ...]:
        shifted = tuple((p + step * u).requires_grad_(True) for p, u in zip(params, v,
                                                                            strict=True))
        return dg.autograd.grad(loss(*shifted), shifted)

    eps = 1e-5
    plus, minus = gradient_at(eps), gradient_at(-eps)
    numeric = tuple((a - b) / (2 * eps) for a, b in zip(plus, minus, strict=True))

    print(f"2-layer MLP, {count} weights (a {count}x{count} Hessian, never built)")
    worst = 0.0
    for name, a, b, c in zip(names, hv, by_hand, numeric, strict=True):
        exact = float(np.abs(a.numpy() - b.numpy()).max())
        fd = float(np.abs(a.numpy() - c.numpy()).max() / max(np.abs(a.numpy()).max(), 1e-30))
        worst = max(worst, fd)
        print(f"  {name:9s} |Hv|max {float(np.abs(a.numpy()).max()):.3e}   hvp vs by hand "
              f"{exact:.1e}   vs finite difference (relative) {fd:.1e}")
        assert exact < 1e-12
    assert worst < 1e-6, "the Hessian-vector product disagrees with the finite difference"


if __name__ == "__main__":
    main()
