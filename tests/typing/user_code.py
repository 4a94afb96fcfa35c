"""A student's first deepgrad script: a linear fit by hand, then a small MLP classifier.

tests/core/test_tensor_typing.py runs mypy (strict) on this file, which must come out
clean, and runs ``main()`` to show that what mypy accepts also trains.
"""

from __future__ import annotations

import numpy as np

import deepgrad as dg
import deepgrad.nn.functional as F
from deepgrad import nn, optim


def fit_line(steps: int = 100, lr: float = 0.1) -> float:
    """Gradient descent on y = 3x - 1 with tensors that require grad, updated by hand."""
    x = dg.linspace(-1.0, 1.0, 32).reshape(-1, 1)
    y = 3 * x - 1 + 0.01 * dg.randn(32, 1)
    w = dg.zeros(1, 1, requires_grad=True)
    b = dg.zeros(1, requires_grad=True)
    loss = dg.tensor(0.0)
    for _ in range(steps):
        pred = x @ w + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with dg.no_grad():
            for p in (w, b):
                assert p.grad is not None
                p.sub_(lr * p.grad)
                p.grad = None
    print(f"w={w.item():.3f} b={b.item():.3f} loss={loss.item():.5f}")
    return float(loss)


class MLP(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_out)

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        h = F.relu(self.fc1(x.view(x.shape[0], -1)))
        out: dg.Tensor = self.fc2(h)
        return out


def make_blobs(n: int = 128) -> tuple[dg.Tensor, dg.Tensor]:
    """Two classes: the sign of x0 * x1 (an XOR pattern), as (n, 1, 2) images of one row."""
    points = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    x = dg.from_numpy(points)
    y = (x[:, 0] * x[:, 1] > 0).long()
    return x.unsqueeze(1), y


def train_mlp(epochs: int = 60, lr: float = 0.5, weight_decay: float = 1e-4) -> list[float]:
    x, y = make_blobs()
    model = MLP(2, 32, 2)
    opt = optim.SGD(model.parameters(), lr=lr)
    losses: list[float] = []
    for epoch in range(epochs):
        model.train()
        logits = model(x)
        l2 = sum((p * p).sum() for p in model.parameters())
        loss = F.cross_entropy(logits, y) + weight_decay * l2
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if epoch % 20 == 0:
            print(f"epoch {epoch}: loss {losses[-1]:.4f}")

    model.eval()
    with dg.no_grad():
        logits = model(x)
        pred = logits.argmax(dim=1)
        accuracy = (pred == y).float().mean().item()
        values, indices = logits.max(dim=1)
        assert indices.equal(pred)
        probs = (logits - logits.logsumexp(dim=1, keepdim=True)).exp()
        confident = probs[probs.amax(dim=1) > 0.9]
        print(f"accuracy {accuracy:.2f}, {confident.shape[0]} confident, "
              f"top value mean {values.mean().item():.2f}")

    # Shapes: transposes, permutes and reductions over chosen dims.
    w = model.fc1.weight
    assert w.T.shape == (w.shape[1], w.shape[0]) == w.t().shape
    batch = x.reshape(-1, 2)
    centred = batch - batch.mean(dim=0, keepdim=True)
    cov = centred.T @ centred / (batch.shape[0] - 1)
    images = x.view(4, 32, 1, 2).permute(0, 2, 3, 1)
    norms = (images.square().sum(dim=(1, 2)) + 1e-12).sqrt()
    clipped = (-centred).clamp(min=-1.0, max=1.0).abs()
    print(f"cov trace {(cov[0, 0] + cov[1, 1]).item():.3f}, "
          f"norms {tuple(norms.shape)}, max |clipped| {clipped.max().item():.2f}")
    return losses


def main() -> tuple[float, list[float]]:
    dg.manual_seed(0)
    return fit_line(), train_mlp()


if __name__ == "__main__":
    main()
