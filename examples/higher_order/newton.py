"""Newton's method with deepgrad's second derivatives: a 1-D function, then a logistic
regression whose Hessian comes from ``autograd.functional.hessian``.

Newton's step is ``x <- x - f'(x) / f''(x)`` (``w <- w - H^-1 g`` in n dimensions). Near a
minimum it converges quadratically: the number of correct digits roughly doubles per step,
where gradient descent gains a constant amount. Both derivatives here are autograd's:
the second by differentiating the first (``create_graph=True``).

Run:  python examples/higher_order/newton.py
"""

from __future__ import annotations

import numpy as np

import deepgrad as dg
from deepgrad.autograd.functional import hessian


def newton_1d(f, x0: float, steps: int = 6) -> list[float]:  # type: ignore[no-untyped-def]
    """Newton's iterates for a minimum of ``f`` (a function of one Tensor)."""
    x = dg.tensor(x0, dtype=dg.float64, requires_grad=True)
    path = [x0]
    for _ in range(steps):
        (g,) = dg.autograd.grad(f(x), x, create_graph=True)  # f'(x), with its own graph
        (h,) = dg.autograd.grad(g, x)                        # f''(x): the gradient of f'
        with dg.no_grad():
            x -= g / h
        path.append(float(x))
    return path


def logistic_data(n: int = 200, seed: int = 0) -> tuple[dg.Tensor, dg.Tensor]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    w_true = np.array([2.0, -3.0])
    p = 1 / (1 + np.exp(-(x @ w_true + 0.5)))
    y = (rng.random(n) < p).astype(np.float64)
    features = np.concatenate([x, np.ones((n, 1))], axis=1)  # a bias column
    return dg.tensor(features), dg.tensor(y)


def logistic_loss(w: dg.Tensor, x: dg.Tensor, y: dg.Tensor, l2: float = 1e-2) -> dg.Tensor:
    logits = x @ w
    return dg.nn.functional.binary_cross_entropy_with_logits(logits, y) + l2 * (w * w).sum()


def analytic_hessian(w: dg.Tensor, x: dg.Tensor, l2: float = 1e-2) -> np.ndarray:
    """The textbook Hessian of the mean logistic loss: ``X^T diag(p(1-p)) X / n + 2 l2 I``."""
    xs = x.numpy()
    p = 1 / (1 + np.exp(-(xs @ w.detach().numpy())))
    return (xs.T * (p * (1 - p))) @ xs / len(xs) + 2 * l2 * np.eye(xs.shape[1])


def newton_logistic(steps: int = 10) -> list[float]:
    """Newton's method on a logistic regression: the gradient norm before each step."""
    x, y = logistic_data()
    w = dg.zeros(3, dtype=dg.float64)
    norms = []
    for _ in range(steps):
        w.requires_grad_(True)
        (g,) = dg.autograd.grad(logistic_loss(w, x, y), w)
        h = hessian(lambda v: logistic_loss(v, x, y), w)
        assert np.allclose(h.numpy(), analytic_hessian(w, x), rtol=1e-10, atol=1e-12)
        norms.append(float(g.norm()))
        with dg.no_grad():
            step = np.linalg.solve(h.numpy(), g.numpy())
            w = w.detach() - dg.tensor(step)
    return norms


def main() -> None:
    f = lambda x: x ** 4 - 2 * x ** 2 + 0.5 * x  # noqa: E731 - minima near -1.06 and 0.93
    path = newton_1d(f, x0=1.5)
    print("Newton on f(x) = x^4 - 2x^2 + x/2 from x = 1.5:")
    for k, x in enumerate(path):
        print(f"  step {k}: x = {x:.15f}")
    slope = 4 * path[-1] ** 3 - 4 * path[-1] + 0.5
    print(f"  f'(x) at the end: {slope:.2e}")
    norms = newton_logistic()
    print("Newton on a logistic regression (200 points, 3 weights; autograd's Hessian equals "
          "X^T diag(p(1-p)) X / n + 2 l2 I at every step): |gradient| per step")
    for k, n in enumerate(norms):
        print(f"  step {k}: {n:.3e}")
    assert abs(slope) < 1e-12 and norms[-1] < 1e-10, "Newton's method did not converge"


if __name__ == "__main__":
    main()
