"""The 1st to 4th derivative of tanh, each computed by differentiating the one before,
drawn two ways: as curves, and as the autograd graphs that compute them.

Each derivative is a graph built by the backward of the previous one
(``autograd.grad(..., create_graph=True)``), so the graphs grow with the order: the
picture of the 4th derivative is the backward of the backward of the backward of
``tanh``'s backward. Written to OUT_DIR: ``tanh_derivatives.png`` (the curves, with
the closed forms as dashed lines) and ``tanh_grad_<k>.svg`` (the graph of the k-th).

Run:  python examples/higher_order/tanh_derivatives.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import deepgrad as dg
from deepgrad.lab.plots import graph_svg  # DOT -> SVG: Graphviz, else the built-in drawing
from deepgrad.viz import to_dot


def closed_forms(t: np.ndarray) -> list[np.ndarray]:
    """tanh's derivatives in terms of t = tanh(x)."""
    s = 1 - t * t
    return [s, -2 * t * s, s * (6 * t * t - 2), 8 * t * s * (2 - 3 * t * t)]


def derivatives(x: dg.Tensor, order: int = 4) -> list[dg.Tensor]:
    """[tanh'(x), tanh''(x), ...]: each the gradient of the sum of the previous."""
    out = []
    y = dg.tanh(x)
    for _ in range(order):
        (y,) = dg.autograd.grad(y.sum(), x, create_graph=True)
        out.append(y)
    return out


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    values = np.linspace(-4, 4, 201)
    x = dg.tensor(values, requires_grad=True)
    grads = derivatives(x)
    exact = closed_forms(np.tanh(values))
    for k, (g, e) in enumerate(zip(grads, exact, strict=True), start=1):
        error = float(np.abs(g.detach().numpy() - e).max())
        nodes = sum(1 for _ in dg.autograd.graph_nodes(g))
        print(f"order {k}: max |autograd - closed form| = {error:.1e}; graph of {nodes} nodes")
        assert error < 1e-12
        small = dg.tensor([0.5], requires_grad=True)  # the same graph on one number, to draw
        svg = graph_svg(to_dot(derivatives(small, k)[-1], {"x": small},
                               name=f"tanh_grad_{k}"))
        (out_dir / f"tanh_grad_{k}.svg").write_text(svg, encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(values, np.tanh(values), color="black", label="tanh")
    for k, (g, e) in enumerate(zip(grads, exact, strict=True), start=1):
        line, = ax.plot(values, g.detach().numpy(), label=f"order {k} (autograd)")
        ax.plot(values, e, "--", color=line.get_color(), linewidth=0.8)
    ax.set_xlabel("x")
    ax.set_title("tanh and its derivatives by repeated autograd (dashed: closed forms)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "tanh_derivatives.png", dpi=120)
    print(f"wrote {out_dir}/tanh_derivatives.png and tanh_grad_1..4.svg")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tanh_derivatives"))
