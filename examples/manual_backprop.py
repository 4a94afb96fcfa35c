"""Report 004's three-layer network in plain NumPy, with the backward pass written by hand.

This is the network of the ELEC 576 assignment that report 004 solves:
input (2) -> hidden (tanh/sigmoid/relu) -> softmax output (2), trained by
full-batch gradient descent with L2 weight decay on the two-moons data.
The backward pass is the report's derivation, written out:

    delta3 = probs - onehot(y)                       dL/dz2 (softmax + cross-entropy)
    dW2 = a1^T delta3 / N + reg * W2                 db2 = sum(delta3) / N
    delta2 = (delta3 W2^T) * act'(z1)                dL/dz1
    dW1 = X^T delta2 / N + reg * W1                  db1 = sum(delta2) / N

with act'(z1) = 1 - a1^2 (tanh), a1 (1 - a1) (sigmoid), [z1 > 0] (relu).
``tests/lab/test_manual_backprop.py`` checks these gradients against
deepgrad's autograd on the zoo's ``moons-net`` with the same weights.

(The report's ``calculate_loss`` divides by N twice and flips the sign;
the loss below is the plain mean cross-entropy plus reg/2 * ||W||^2.)

Run:  python examples/manual_backprop.py [--activation tanh] [--hidden 3] [--plot out.png]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("tanh", "sigmoid", "relu")


def activation(z: np.ndarray, kind: str) -> np.ndarray:
    """The hidden activation."""
    if kind == "tanh":
        return np.tanh(z)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if kind == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {kind!r}")


def activation_grad(z: np.ndarray, a: np.ndarray, kind: str) -> np.ndarray:
    """d act(z) / dz, written with the output a where that is cheaper."""
    if kind == "tanh":
        return 1.0 - a**2
    if kind == "sigmoid":
        return a * (1.0 - a)
    if kind == "relu":
        return (z > 0).astype(z.dtype)
    raise ValueError(f"activation_grad: expected one of {ACTIVATIONS}, got {kind!r}")


@dataclass
class Params:
    """Weights as the report stores them: W1 (in, hidden), W2 (hidden, out), row-vector inputs."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray


def init_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> Params:
    """The assignment's init: randn(fan_in, fan_out) / sqrt(fan_in), zero biases."""
    rng = np.random.default_rng(seed)
    return Params(
        W1=rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in),
        b1=np.zeros(n_hidden),
        W2=rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden),
        b2=np.zeros(n_out),
    )


def feedforward(p: Params, X: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    """Forward pass; returns every intermediate the backward pass needs."""
    z1 = X @ p.W1 + p.b1
    a1 = activation(z1, kind)
    z2 = a1 @ p.W2 + p.b2
    z2 = z2 - z2.max(axis=1, keepdims=True)  # stable softmax: same probabilities
    e = np.exp(z2)
    probs = e / e.sum(axis=1, keepdims=True)
    return {"z1": z1, "a1": a1, "z2": z2, "probs": probs}


def calculate_loss(p: Params, X: np.ndarray, y: np.ndarray, kind: str, reg: float) -> float:
    """Mean cross-entropy plus reg/2 * (||W1||^2 + ||W2||^2)."""
    probs = feedforward(p, X, kind)["probs"]
    data_loss = -np.log(probs[np.arange(len(y)), y]).mean()
    return float(data_loss + reg / 2 * ((p.W1**2).sum() + (p.W2**2).sum()))


def backprop(p: Params, X: np.ndarray, y: np.ndarray, kind: str, reg: float) -> Params:
    """The hand-written backward pass: gradients of ``calculate_loss`` for every weight."""
    cache = feedforward(p, X, kind)
    n = len(X)
    delta3 = cache["probs"].copy()
    delta3[np.arange(n), y] -= 1.0  # softmax + cross-entropy: probs - onehot
    delta3 /= n
    dW2 = cache["a1"].T @ delta3 + reg * p.W2
    db2 = delta3.sum(axis=0)
    delta2 = (delta3 @ p.W2.T) * activation_grad(cache["z1"], cache["a1"], kind)
    dW1 = X.T @ delta2 + reg * p.W1
    db1 = delta2.sum(axis=0)
    return Params(W1=dW1, b1=db1, W2=dW2, b2=db2)


def predict(p: Params, X: np.ndarray, kind: str) -> np.ndarray:
    """Class labels."""
    return feedforward(p, X, kind)["probs"].argmax(axis=1)


def fit(
    p: Params,
    X: np.ndarray,
    y: np.ndarray,
    kind: str,
    *,
    epsilon: float = 0.01,
    reg: float = 0.01,
    passes: int = 20000,
    print_every: int = 0,
) -> Params:
    """Full-batch gradient descent, as in the assignment (epsilon is the learning rate)."""
    for i in range(passes):
        g = backprop(p, X, y, kind, reg)
        p.W1 -= epsilon * g.W1
        p.b1 -= epsilon * g.b1
        p.W2 -= epsilon * g.W2
        p.b2 -= epsilon * g.b2
        if print_every and i % print_every == 0:
            print(f"pass {i:6d}  loss {calculate_loss(p, X, y, kind, reg):.4f}")
    return p


def moons(n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (sklearn's make_moons), via deepgrad.data when present."""
    try:
        from deepgrad.data import make_moons

        X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
        return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    except ImportError:
        rng = np.random.default_rng(seed)
        n_out = n_samples // 2
        n_in = n_samples - n_out
        t_out = np.linspace(0, np.pi, n_out)
        t_in = np.linspace(0, np.pi, n_in)
        X = np.concatenate(
            [
                np.stack([np.cos(t_out), np.sin(t_out)], 1),
                np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1),
            ]
        )
        y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
        return X + rng.normal(0, noise, X.shape), y


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activation", default="tanh", choices=ACTIVATIONS)
    parser.add_argument("--hidden", type=int, default=3)
    parser.add_argument("--passes", type=int, default=20000)
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--reg", type=float, default=0.01)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None, help="save the decision boundary to this PNG")
    args = parser.parse_args(argv)

    X, y = moons(args.samples, args.noise, args.seed)
    p = init_params(2, args.hidden, 2, seed=args.seed)
    fit(
        p,
        X,
        y,
        args.activation,
        epsilon=args.epsilon,
        reg=args.reg,
        passes=args.passes,
        print_every=max(args.passes // 10, 1),
    )
    acc = float((predict(p, X, args.activation) == y).mean())
    loss = calculate_loss(p, X, y, args.activation, args.reg)
    print(f"{args.activation}, {args.hidden} hidden: loss {loss:.4f}, training accuracy {acc:.2%}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        xx, yy = np.meshgrid(
            np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 300),
            np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 300),
        )
        zz = predict(p, np.c_[xx.ravel(), yy.ravel()], args.activation).reshape(xx.shape)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.contourf(xx, yy, zz, cmap="Spectral", alpha=0.6)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="Spectral", s=12, edgecolors="k", linewidths=0.3)
        ax.set_title(f"{args.activation}, {args.hidden} hidden units: {acc:.1%}")
        fig.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"decision boundary saved to {args.plot}")
    return acc


if __name__ == "__main__":
    main()
